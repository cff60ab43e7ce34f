using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sol.Bench.Transport;

/// <summary>
/// The cheapest client the end-to-end harness can drive thousands of: a raw <see cref="Socket"/>, a fixed handshake,
/// frames masked once up front (<see cref="MaskedFrames"/>) and a reader that only counts complete data messages.
/// The client's CPU is not what is measured, but it shares the machine with the server, so it must stay small.
/// </summary>
/// <remarks>One receive loop per client (<see cref="ReceiveAsync"/> is not thread-safe); sends may come from another
/// task as long as they do not overlap each other.</remarks>
public sealed class RawWebSocketClient : IDisposable
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private readonly Socket _socket;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private long _skip = -1;
    private bool _countCurrent;
    private long _received;

    private RawWebSocketClient(Socket socket, byte[] buffer, int start, int end)
    {
        _socket = socket;
        _buffer = buffer;
        _start = start;
        _end = end;
    }

    /// <summary>Complete data messages read so far (written by the receive loop only; read by anyone).</summary>
    public long Received => Volatile.Read(ref _received);

    /// <summary>Connects and upgrades; throws when the answer is not <c>101</c>.</summary>
    public static async Task<RawWebSocketClient> ConnectAsync(IPEndPoint server, string pathAndQuery, int bufferSize,
        CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
            var request = $"GET {pathAndQuery} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken);
            var buffer = new byte[Math.Max(bufferSize, 1024)];
            var length = 0;
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    throw new IOException("the server closed the connection during the handshake");
                }
                length += read;
                var end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    if (!buffer.AsSpan(0, length).StartsWith("HTTP/1.1 101"u8))
                    {
                        throw new IOException($"upgrade refused: {Encoding.ASCII.GetString(buffer, 0, end)}");
                    }
                    return new RawWebSocketClient(socket, buffer, end + 4, length);
                }
                if (length == buffer.Length)
                {
                    throw new IOException("handshake answer too long");
                }
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="copies"/> client frames of <paramref name="payloadLength"/> bytes back to back, each masked with
    /// a fixed non-zero key (the server really unmasks; the client pays for it once).
    /// </summary>
    public static byte[] MaskedFrames(int payloadLength, bool text, int copies)
    {
        var header = 2 + 4 + (payloadLength < 126 ? 0 : payloadLength <= ushort.MaxValue ? 2 : 8);
        var frame = new byte[header + payloadLength];
        frame[0] = (byte)(0x80 | (text ? 0x1 : 0x2));
        int at;
        if (payloadLength < 126)
        {
            frame[1] = (byte)(0x80 | payloadLength);
            at = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payloadLength);
            at = 4;
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payloadLength);
            at = 10;
        }
        ReadOnlySpan<byte> mask = [0x37, 0xfa, 0x21, 0x3d];
        mask.CopyTo(frame.AsSpan(at));
        at += 4;
        for (var i = 0; i < payloadLength; i++)
        {
            // 'a'..'z' so that text frames are valid UTF-8.
            frame[at + i] = (byte)((byte)('a' + i % 26) ^ mask[i & 3]);
        }
        var frames = new byte[frame.Length * copies];
        for (var c = 0; c < copies; c++)
        {
            frame.CopyTo(frames, c * frame.Length);
        }
        return frames;
    }

    /// <summary>Writes ready-made frames (see <see cref="MaskedFrames"/>).</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken)
    {
        while (!frames.IsEmpty)
        {
            var sent = await _socket.SendAsync(frames, SocketFlags.None, cancellationToken);
            frames = frames[sent..];
        }
    }

    /// <summary>
    /// Reads what is there and returns how many data messages it completed (0 is possible), or -1 when the server
    /// closed the connection. Server frames are unmasked and unfragmented in these benchmarks; control frames are
    /// skipped and not counted.
    /// </summary>
    public async ValueTask<int> ReceiveAsync(CancellationToken cancellationToken)
    {
        var completed = Count();
        if (completed > 0)
        {
            return completed;
        }
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            // An incomplete header at the end of the buffer: move it to the front.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        if (read == 0)
        {
            return -1;
        }
        _end += read;
        return Count();
    }

    private int Count()
    {
        var completed = 0;
        while (true)
        {
            if (_skip >= 0)
            {
                var take = (int)Math.Min(_skip, _end - _start);
                _start += take;
                _skip -= take;
                if (_skip > 0)
                {
                    break;
                }
                _skip = -1;
                if (_countCurrent)
                {
                    completed++;
                }
                continue;
            }
            var available = _end - _start;
            if (available < 2)
            {
                break;
            }
            var b0 = _buffer[_start];
            var b1 = _buffer[_start + 1];
            var length = (long)(b1 & 0x7f);
            var header = 2;
            if (length == 126)
            {
                if (available < 4)
                {
                    break;
                }
                length = BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2));
                header = 4;
            }
            else if (length == 127)
            {
                if (available < 10)
                {
                    break;
                }
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2));
                header = 10;
            }
            _start += header;
            _skip = length;
            // Data frames with FIN count; control frames (opcode >= 8) do not.
            _countCurrent = (b0 & 0x80) != 0 && (b0 & 0x08) == 0;
        }
        Volatile.Write(ref _received, _received + completed);
        return completed;
    }

    /// <summary>Drops the connection without a close handshake (the servers see the end of the stream).</summary>
    public void Dispose() => _socket.Dispose();
}
