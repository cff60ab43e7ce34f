using System.Buffers.Binary;
using System.Net.Sockets;
using System.Numerics;
using Sol.Transport.Frames;

namespace Sol.Bench.Transport;

/// <summary>
/// One connection of <see cref="DirectBenchServer"/>: the upgrade, then one receive loop over a buffer of its own.
/// Each complete client frame is unmasked and turned into the server's frame in place, in that buffer, and answered at
/// once on the receiving thread with blocking <see cref="Socket.Send(ReadOnlySpan{byte})"/> calls: back to the sender
/// (echo, ping, close) or to every subscriber in turn (a publisher's data frames). Frames are relayed one by one, FIN
/// bit and opcode kept, so a fragmented message goes out as the same fragments; nothing is reassembled or queued.
/// </summary>
/// <remarks>
/// Not checked, because the harness's clients never need it: UTF-8 of text messages, the order of fragments, a close
/// code's validity. A frame larger than the buffer gets a larger buffer, kept for the connection's life (up to
/// <see cref="MaxFrame"/>; a larger frame is answered with close 1009).
/// </remarks>
internal sealed class DirectConnection
{
    /// <summary>As the ASP.NET Core baseline's receive buffer; a broadcast of 2 KiB and its header fit.</summary>
    internal const int BufferSize = 4096;

    /// <summary>The largest client frame, header included.</summary>
    private const int MaxFrame = 16 << 20;

    private const byte OpcodeClose = 0x8;
    private const byte OpcodePing = 0x9;
    private const byte OpcodePong = 0xA;

    private readonly DirectBenchServer _server;
    private readonly Socket _socket;

    /// <summary>
    /// Held for each whole frame sent, so that a pong or a close answer from this connection's own loop cannot land in
    /// the middle of a broadcast frame the publisher's loop is sending (uncontended in the benchmark).
    /// </summary>
    private readonly Lock _sendLock = new();

    private byte[] _buffer = new byte[BufferSize];

    /// <summary>Unread bytes are <c>_buffer[_start.._end]</c>.</summary>
    private int _start;

    private int _end;

    private DirectRole _role;

    public DirectConnection(DirectBenchServer server, Socket socket)
    {
        _server = server;
        _socket = socket;
    }

    public DirectRole Role => _role;

    /// <summary>Upgrades, then reads and answers frames until the client closes or goes away. Never throws.</summary>
    public async Task RunAsync()
    {
        var opened = false;
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }
                _end += read;
                var upgrade = TryUpgrade();
                if (upgrade is false)
                {
                    return;
                }
                if (upgrade is true)
                {
                    break;
                }
            }
            _server.Opened(this);
            opened = true;
            while (ReadFrames(out var needed))
            {
                MakeRoom(needed);
                var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }
                _end += read;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client went away, or the server stopped.
        }
        finally
        {
            if (opened)
            {
                _server.Closed(this);
            }
            _socket.Dispose();
        }
    }

    /// <summary>
    /// Sends a whole frame with blocking sends on the calling thread. Throws <see cref="SocketException"/> or
    /// <see cref="ObjectDisposedException"/> when the connection is gone.
    /// </summary>
    public void Send(ReadOnlySpan<byte> frame)
    {
        lock (_sendLock)
        {
            while (!frame.IsEmpty)
            {
                frame = frame[_socket.Send(frame, SocketFlags.None)..];
            }
        }
    }

    /// <summary>Closes the socket; the receive loop then ends.</summary>
    public void Abort() => _socket.Dispose();

    /// <summary>
    /// With the request head read: answers it and returns whether it was accepted; without: <see langword="null"/>
    /// (read more), or refuses a head too large for the buffer.
    /// </summary>
    private bool? TryUpgrade()
    {
        var headEnd = _buffer.AsSpan(0, _end).IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            if (_end < _buffer.Length)
            {
                return null;
            }
            Send(DirectHandshake.TooLarge());
            return false;
        }
        var handshake = DirectHandshake.Read(_buffer.AsSpan(0, headEnd));
        Send(handshake.Response());
        _role = handshake.Role;
        _start = headEnd + 4;
        return handshake.Status == 101;
    }

    /// <summary>
    /// Answers every complete frame in the buffer. Returns <see langword="false"/> when the connection is done (close
    /// answered, or a protocol error answered with a close), else <see langword="true"/> with the bytes the next frame
    /// needs from <see cref="_start"/> (at least one more than there are).
    /// </summary>
    private bool ReadFrames(out int needed)
    {
        //  0                   1                   2                   3
        //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
        // +-+-+-+-+-------+-+-------------+-------------------------------+
        // |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
        // |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
        // |N|V|V|V|       |S|             |   (if payload len==126/127)   |
        // | |1|2|3|       |K|             |                               |
        // +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
        // |     Extended payload length continued, if payload len == 127  |
        // + - - - - - - - - - - - - - - - +-------------------------------+
        // |                               |Masking-key, if MASK set to 1  |
        // +-------------------------------+-------------------------------+
        // | Masking-key (continued)       |          Payload Data         |
        // +-------------------------------- - - - - - - - - - - - - - - - +
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            if (span.Length < 2)
            {
                needed = 2;
                return true;
            }
            var lengthBytes = (span[1] & 0x7f) switch
            {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            // Client frames are masked (checked below), so the client header is the server's plus the 4 mask bytes.
            var serverHeader = 2 + lengthBytes;
            var header = serverHeader + 4;
            if (span.Length < header)
            {
                needed = header;
                return true;
            }
            var length = lengthBytes switch
            {
                0 => (ulong)(span[1] & 0x7f),
                2 => BinaryPrimitives.ReadUInt16BigEndian(span[2..]),
                _ => BinaryPrimitives.ReadUInt64BigEndian(span[2..]),
            };
            var opcode = (byte)(span[0] & 0x0f);
            var isControl = opcode >= OpcodeClose;
            var fin = (span[0] & 0x80) != 0;
            if ((span[0] & 0x70) != 0 || (span[1] & 0x80) == 0 || opcode is > 0x2 and < OpcodeClose or > OpcodePong ||
                (isControl && (!fin || length > 125)))
            {
                // 1002 protocol error: reserved bits, an unmasked client frame, an unknown opcode, a bad control frame.
                Send([0x88, 0x02, 0x03, 0xEA]);
                needed = 0;
                return false;
            }
            if (length > (ulong)(MaxFrame - header))
            {
                // 1009 message too big.
                Send([0x88, 0x02, 0x03, 0xF1]);
                needed = 0;
                return false;
            }
            var total = header + (int)length;
            if (span.Length < total)
            {
                needed = total;
                return true;
            }
            _start += total;

            // Unmask in place, then move the header up over the mask key and clear the MASK bit: the server's frame
            // (same FIN, opcode and length) ends where the client's did, and nothing is copied but the header.
            var payload = span.Slice(header, (int)length);
            Masking.Unmask(payload, Masking.ReadMask(span.Slice(serverHeader, 4)), 0);
            span[..serverHeader].CopyTo(span[4..]);
            var frame = span[4..total];
            frame[1] &= 0x7f;

            switch (opcode)
            {
                case OpcodeClose:
                    // Answer with the client's code (and reason), then the receive loop ends and closes the socket.
                    Send(frame);
                    needed = 0;
                    return false;
                case OpcodePing:
                    frame[0] = 0x80 | OpcodePong;
                    Send(frame);
                    break;
                case OpcodePong:
                    break;
                default:
                    switch (_role)
                    {
                        case DirectRole.Publisher:
                            _server.Broadcast(frame);
                            break;
                        case DirectRole.Echo:
                            Send(frame);
                            break;
                    }
                    break;
            }
        }
    }

    /// <summary>Makes room for <paramref name="needed"/> bytes from <see cref="_start"/>: moves them to the front, or into a larger buffer.</summary>
    private void MakeRoom(int needed)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        if (_buffer.Length - _start >= needed)
        {
            return;
        }
        var buffer = needed <= _buffer.Length ? _buffer : new byte[BitOperations.RoundUpToPowerOf2((uint)needed)];
        _buffer.AsSpan(_start, _end - _start).CopyTo(buffer);
        _end -= _start;
        _start = 0;
        _buffer = buffer;
    }
}
