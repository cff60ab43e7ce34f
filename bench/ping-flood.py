#!/usr/bin/env python3
# A client that sends COUNT pings of 125 B and reads nothing, against a running echo host; prints the server's RSS
# before and after. Usage: bench/ping-flood.py PORT SERVER_PID [COUNT=2000000]
# e.g. Sol.Bench transport-echo --port 0 --sockets raw (prints its port), then this with that process's id.
import socket, sys, os, time
port, pid = int(sys.argv[1]), sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000_000
def rss():
    for line in open(f'/proc/{pid}/status'):
        if line.startswith('VmRSS'): return int(line.split()[1]) // 1024
s = socket.create_connection(('127.0.0.1', port))
s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo.v1\r\n\r\n")
head = b''
while b'\r\n\r\n' not in head: head += s.recv(1)
print('upgrade:', head.split(b'\r\n')[0].decode())
mask = b'\x01\x02\x03\x04'
payload = bytes(125)
frame = bytes([0x89, 0x80 | 125]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
batch = frame * 1000
before = rss()
t = time.time()
s.settimeout(30)
sent = 0
try:
    for i in range(count // 1000):
        s.sendall(batch); sent += 1000
except Exception as e:
    print('send stopped:', e)
time.sleep(1)
print(f'pings sent {sent:,} in {time.time()-t:.1f} s; server RSS {before} MiB before, {rss()} MiB after')
s.close()
