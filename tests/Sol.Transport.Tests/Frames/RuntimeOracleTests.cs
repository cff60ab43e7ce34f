using System.Buffers;
using System.Net.WebSockets;
using Sol.Transport.Frames;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Frames;

/// <summary>
/// Oracle: random valid client streams (sizes across the 7/16/64-bit length forms, fragmentation, interleaved pings,
/// random masks, random segment splits) read by <see cref="MessageReader"/> and by the runtime's own server-side
/// WebSocket (<c>WebSocket.CreateFromStream</c>) must yield the same messages.
/// </summary>
public sealed class RuntimeOracleTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task MessageReaderAgreesWithTheRuntimeOnRandomStreams(int seed)
    {
        var random = new Random(seed);
        var stream = new List<byte>();
        var expected = new List<(WebSocketMessageKind Kind, byte[] Payload)>();
        for (var m = 0; m < 40; m++)
        {
            var kind = random.Next(2) == 0 ? WebSocketMessageKind.Binary : WebSocketMessageKind.Text;
            var size = random.Next(4) switch { 0 => random.Next(0, 126), 1 => random.Next(126, 2000), 2 => random.Next(2000, 70_000), _ => random.Next(0, 20) };
            var payload = new byte[size];
            if (kind == WebSocketMessageKind.Text)
            {
                string[] pieces = ["a", "é", "€", "😀"];
                var text = new System.Text.StringBuilder();
                while (System.Text.Encoding.UTF8.GetByteCount(text.ToString()) < size)
                {
                    text.Append(pieces[random.Next(pieces.Length)]);
                }
                payload = System.Text.Encoding.UTF8.GetBytes(text.ToString());
            }
            else
            {
                random.NextBytes(payload);
            }
            expected.Add((kind, payload));
            var fragments = random.Next(3) == 0 ? random.Next(2, 5) : 1;
            var at = 0;
            for (var f = 0; f < fragments; f++)
            {
                var last = f == fragments - 1;
                var take = last ? payload.Length - at : random.Next(0, payload.Length - at + 1);
                var opcode = f == 0 ? (kind == WebSocketMessageKind.Text ? 0x1 : 0x2) : 0x0;
                var mask = new byte[4];
                random.NextBytes(mask);
                stream.AddRange(ClientFrames.Frame(opcode, payload.AsSpan(at, take), fin: last, mask: mask));
                at += take;
                if (random.Next(4) == 0)
                {
                    stream.AddRange(ClientFrames.Frame(0x9, "p"u8, mask: mask));
                }
            }
        }
        var bytes = stream.ToArray();

        var ours = ReadWithMessageReader(bytes, random);
        var runtime = await ReadWithRuntimeAsync(bytes, expected.Count);

        Assert.Equal(expected.Count, ours.Count);
        Assert.Equal(expected.Count, runtime.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(runtime[i].Kind, ours[i].Kind);
            Assert.Equal(runtime[i].Payload, ours[i].Payload);
            Assert.Equal(expected[i].Payload, ours[i].Payload);
        }
    }

    private static List<(WebSocketMessageKind Kind, byte[] Payload)> ReadWithMessageReader(byte[] bytes, Random random)
    {
        // Feed the stream in random chunks, as a pipe would: unconsumed bytes come back with the next chunk.
        var sink = new RecordingSink();
        var reader = new MessageReader(1 << 20, ArrayPool<byte>.Shared);
        var pending = new List<byte>();
        var at = 0;
        while (at < bytes.Length)
        {
            var take = Math.Min(bytes.Length - at, random.Next(1, 9000));
            pending.AddRange(bytes.AsSpan(at, take).ToArray());
            at += take;
            var chunk = pending.ToArray();
            var sequence = Segments.Split(chunk, random.Next(1, 5000));
            var outcome = reader.Read(sequence, sink, out var consumed, out _, out var error);
            Assert.True(outcome == ReadOutcome.NeedMore, $"{outcome} {error}");
            pending = [.. chunk.AsSpan((int)sequence.Slice(0, consumed).Length).ToArray()];
        }
        reader.Release();
        return sink.Messages.Select(m => (m.Kind, m.Payload)).ToList();
    }

    private static async Task<List<(WebSocketMessageKind Kind, byte[] Payload)>> ReadWithRuntimeAsync(byte[] bytes, int count)
    {
        var stream = new DuplexBytes(bytes);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var messages = new List<(WebSocketMessageKind, byte[])>();
        var buffer = new byte[1 << 20];
        while (messages.Count < count) // the runtime reads ahead, so count messages rather than bytes
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            messages.Add((result.MessageType == WebSocketMessageType.Text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary, buffer[..length]));
        }
        return messages;
    }

    /// <summary>Reads from the given bytes, swallows writes (the runtime's pongs).</summary>
    private sealed class DuplexBytes(byte[] bytes) : Stream
    {
        private int _position;

        public int Remaining => bytes.Length - _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, Remaining);
            bytes.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
            _position += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
