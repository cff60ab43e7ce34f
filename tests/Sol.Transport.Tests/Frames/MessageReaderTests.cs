using System.Buffers;
using System.Net.WebSockets;
using Sol.Transport.Frames;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Frames;

public sealed class MessageReaderTests
{
    private readonly CountingArrayPool _pool = new();

    public static TheoryData<string, byte[], int> MalformedFrames() => new()
    {
        { "unmasked", ClientFrames.Frame(0x2, [1, 2, 3], masked: false), 1002 },
        { "RSV1", ClientFrames.Frame(0x2, [1], rsv: 4), 1002 },
        { "RSV2", ClientFrames.Frame(0x2, [1], rsv: 2), 1002 },
        { "RSV3", ClientFrames.Frame(0x2, [1], rsv: 1), 1002 },
        { "opcode 3", ClientFrames.Frame(0x3, [1]), 1002 },
        { "opcode 7", ClientFrames.Frame(0x7, [1]), 1002 },
        { "opcode 0xB", ClientFrames.Frame(0xB, []), 1002 },
        { "opcode 0xF", ClientFrames.Frame(0xF, []), 1002 },
        { "fragmented ping", ClientFrames.Frame(0x9, [1], fin: false), 1002 },
        { "fragmented close", ClientFrames.Frame(0x8, [3, 232], fin: false), 1002 },
        { "ping of 126 bytes", ClientFrames.Frame(0x9, new byte[126]), 1002 },
        { "continuation without a start", ClientFrames.Frame(0x0, [1]), 1002 },
        { "new message inside a fragmented one", ClientFrames.Concat(ClientFrames.Binary([1], fin: false), ClientFrames.Binary([2])), 1002 },
        { "16-bit length under 126", ClientFrames.Frame(0x2, new byte[100], forceLengthBytes: 2), 1002 },
        { "64-bit length under 65536", ClientFrames.Frame(0x2, new byte[200], forceLengthBytes: 8), 1002 },
        { "64-bit length with the MSB set", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], 1002 },
        { "close with a 1-byte payload", ClientFrames.Frame(0x8, [3]), 1002 },
        { "close code 999", ClientFrames.Close(999), 1002 },
        { "close code 1004", ClientFrames.Close(1004), 1002 },
        { "close code 1005", ClientFrames.Close(1005), 1002 },
        { "close code 1006", ClientFrames.Close(1006), 1002 },
        { "close code 1015", ClientFrames.Close(1015), 1002 },
        { "close code 2000", ClientFrames.Close(2000), 1002 },
        { "close code 5000", ClientFrames.Close(5000), 1002 },
        { "close reason not UTF-8", ClientFrames.Frame(0x8, [3, 232, 0xC3, 0x28]), 1007 },
        { "text not UTF-8", ClientFrames.Frame(0x1, [0x61, 0xFF, 0x62]), 1007 },
        { "text with a surrogate", ClientFrames.Frame(0x1, [0xED, 0xA0, 0x80]), 1007 },
        { "text cut inside a character", ClientFrames.Frame(0x1, [0x61, 0xE2, 0x82]), 1007 },
        { "fragmented text cut inside a character", ClientFrames.Concat(ClientFrames.Frame(0x1, [0x61, 0xE2], fin: false), ClientFrames.Frame(0x0, [0x82])), 1007 },
        { "fragmented text invalid in the second fragment", ClientFrames.Concat(ClientFrames.Frame(0x1, [0x61], fin: false), ClientFrames.Frame(0x0, [0xC0, 0x80])), 1007 },
        { "message over the limit", ClientFrames.Frame(0x2, new byte[1025]), 1009 },
        { "fragments over the limit", ClientFrames.Concat(ClientFrames.Binary(new byte[1000], fin: false), ClientFrames.Frame(0x0, new byte[30])), 1009 },
    };

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public void ReadFailsWithItsCloseCodeOnAMalformedFrame(string what, byte[] bytes, int code)
    {
        foreach (var segmentSize in new[] { bytes.Length, 1, 3 })
        {
            var reader = new MessageReader(1024, _pool);
            var outcome = ReadAll(reader, Segments.Split(bytes, segmentSize), new RecordingSink(), out var error);
            reader.Release();

            Assert.True(outcome == ReadOutcome.Failed, $"{what}: {outcome}");
            Assert.Equal((WebSocketCloseStatus)code, error);
        }
        _pool.AssertNoLeaks();
    }

    public static TheoryData<int> PayloadSizes() => [0, 1, 125, 126, 1000, 65535, 65536, 70_000];

    [Theory]
    [MemberData(nameof(PayloadSizes))]
    public void ReadDeliversAWholeMessageWithoutCopyWhenItIsContiguous(int size)
    {
        var payload = ClientFrames.Pattern(size);
        var bytes = ClientFrames.Binary(payload);
        var sink = new RecordingSink();
        var reader = new MessageReader(1 << 20, _pool);

        var outcome = reader.Read(new ReadOnlySequence<byte>(bytes), sink, out var consumed, out _, out _);

        Assert.Equal(ReadOutcome.NeedMore, outcome);
        Assert.Equal(bytes.Length, consumed.GetInteger());
        var message = Assert.Single(sink.Messages);
        Assert.Equal(payload, message.Payload);
        Assert.Equal(WebSocketMessageKind.Binary, message.Kind);
        Assert.Equal(0, _pool.Rents); // no assembly buffer was rented: the pipe's bytes were handed over
        if (size > 0)
        {
            Assert.Same(bytes, Assert.Single(sink.Backing[0])); // unmasked in place: the payload is the input's own memory
        }
        reader.Release();
        _pool.AssertNoLeaks();
    }

    [Theory]
    [InlineData(1000, 7)]
    [InlineData(16_000, 1000)]
    [InlineData(70_000, 4096)]
    public void ReadDeliversAWholeMessageWithoutCopyEvenAcrossSegments(int size, int segmentSize)
    {
        var payload = ClientFrames.Pattern(size);
        var bytes = ClientFrames.Binary(payload);
        var sink = new RecordingSink();
        var reader = new MessageReader(1 << 20, _pool);

        var outcome = reader.Read(Segments.View(bytes, Enumerable.Repeat(segmentSize, int.MaxValue)), sink, out _, out _, out _);

        Assert.Equal(ReadOutcome.NeedMore, outcome);
        var message = Assert.Single(sink.Messages);
        Assert.Equal(payload, message.Payload);
        Assert.False(message.SingleSegment);
        Assert.Equal(0, _pool.Rents);
        Assert.All(sink.Backing[0], array => Assert.Same(bytes, array)); // every segment is the input's own memory
        reader.Release();
        _pool.AssertNoLeaks();
    }

    [Fact]
    public void EveryPrefixOfAValidSequenceOfFramesIsIncompleteAndConsumesNothingPartial()
    {
        var bytes = ClientFrames.Conversation();

        for (var prefix = 0; prefix < bytes.Length; prefix++)
        {
            // Feed the prefix, then the rest, as a pipe would: the unconsumed bytes come again with the new ones.
            var sink = new RecordingSink();
            var reader = new MessageReader(1 << 20, _pool);
            var first = bytes[..prefix];
            var outcome = reader.Read(new ReadOnlySequence<byte>(first), sink, out var consumed, out _, out _);
            Assert.Equal(ReadOutcome.NeedMore, outcome);
            var rest = bytes[consumed.GetInteger()..];
            outcome = ReadAll(reader, new ReadOnlySequence<byte>(rest), sink, out _);

            Assert.Equal(ReadOutcome.Closed, outcome);
            AssertAll(sink, prefix);
            reader.Release();
        }
        _pool.AssertNoLeaks();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(64)]
    public void ReadHandlesFramesSplitAcrossManySegments(int segmentSize)
    {
        var big = ClientFrames.Pattern(70_000);
        var bytes = ClientFrames.Conversation(ClientFrames.Binary(big));
        var sink = new RecordingSink();
        var reader = new MessageReader(1 << 20, _pool);

        Assert.Equal(ReadOutcome.Closed, ReadAll(reader, Segments.Split(bytes, segmentSize), sink, out _));

        AssertAll(sink, segmentSize, big);
        reader.Release();
        _pool.AssertNoLeaks();
    }

    [Fact]
    public void ReadStreamsALargeFrameThatArrivesInPiecesAndCarriesTheMaskOffset()
    {
        var payload = ClientFrames.Pattern(100_003);
        var bytes = ClientFrames.Binary(payload);
        var sink = new RecordingSink();
        var reader = new MessageReader(1 << 20, _pool);
        var offset = 0;
        var pending = Array.Empty<byte>();
        var chunk = 4093; // odd sizes: the mask offset is not 0 at chunk starts
        while (offset < bytes.Length)
        {
            var next = bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset)).ToArray();
            offset += next.Length;
            var available = pending.Concat(next).ToArray();
            var outcome = reader.Read(new ReadOnlySequence<byte>(available), sink, out var consumed, out _, out _);
            Assert.Equal(ReadOutcome.NeedMore, outcome);
            pending = available[consumed.GetInteger()..];
            Assert.True(pending.Length < 14, "a streamed frame's payload is consumed as it comes");
        }

        Assert.Equal(payload, Assert.Single(sink.Messages).Payload);
        reader.Release();
        _pool.AssertNoLeaks();
    }

    [Fact]
    public void ReadLeavesASmallIncompleteFrameInThePipe()
    {
        var bytes = ClientFrames.Binary(ClientFrames.Pattern(1000));
        var reader = new MessageReader(1 << 20, _pool);
        var sink = new RecordingSink();

        var outcome = reader.Read(new ReadOnlySequence<byte>(bytes, 0, 500), sink, out var consumed, out var examined, out _);

        Assert.Equal(ReadOutcome.NeedMore, outcome);
        Assert.Equal(0, consumed.GetInteger());
        Assert.Equal(500, examined.GetInteger());
        Assert.Empty(sink.Messages);
    }

    [Fact]
    public void ReadReportsTheCloseCodeAndReason()
    {
        var sink = new RecordingSink();
        var reader = new MessageReader(1024, _pool);

        Assert.Equal(ReadOutcome.Closed, ReadAll(reader, new ReadOnlySequence<byte>(ClientFrames.Close(4000, "fin ✓")), sink, out _));
        Assert.Equal((4000, "fin ✓"), sink.Close);

        sink = new RecordingSink();
        Assert.Equal(ReadOutcome.Closed, ReadAll(reader, new ReadOnlySequence<byte>(ClientFrames.Frame(0x8, [])), sink, out _));
        Assert.Equal((-1, ""), sink.Close);
    }

    [Fact]
    public void ReadRejectsADataFrameLongerThanTheLimitFromItsHeaderAlone()
    {
        var header = ClientFrames.Frame(0x2, new byte[5000])[..8];
        var reader = new MessageReader(4096, _pool);

        var outcome = reader.Read(new ReadOnlySequence<byte>(header), new RecordingSink(), out _, out _, out var error);

        Assert.Equal(ReadOutcome.Failed, outcome);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, error);
    }

    [Fact]
    public void MutatedFrameSequencesEndInMessagesACloseOrAProtocolErrorNeverAnException()
    {
        // A fixed seed: the same 20,000 damaged inputs every time (a failing run's index is in the message).
        var valid = ClientFrames.Conversation(ClientFrames.Binary(ClientFrames.Pattern(2000)));
        var random = new Random(20261130);
        var outcomes = new Dictionary<(ReadOutcome, WebSocketCloseStatus), int>();
        for (var run = 0; run < 20_000; run++)
        {
            var wire = Damage.Mutate(valid, random);
            var sink = new RecordingSink();
            var limit = run % 2 == 0 ? 1024 : 4096; // the 2,000-byte message is over the first: 1009 is reachable too
            var reader = new MessageReader(limit, _pool);
            ReadOutcome outcome;
            WebSocketCloseStatus error;
            try
            {
                (outcome, error) = FeedAsAPipe(reader, wire, random, sink);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"run {run}: {e}");
            }
            finally
            {
                reader.Release();
            }
            Assert.True(outcome != ReadOutcome.Failed || error is WebSocketCloseStatus.ProtocolError
                or WebSocketCloseStatus.InvalidPayloadData or WebSocketCloseStatus.MessageTooBig, $"run {run}: {error}");
            foreach (var (kind, payload, _) in sink.Messages)
            {
                Assert.True(kind != WebSocketMessageKind.Text || System.Text.Unicode.Utf8.IsValid(payload), $"run {run}: invalid UTF-8 delivered as text");
                Assert.True(payload.Length <= limit, $"run {run}: a message of {payload.Length} bytes passed the limit");
            }
            var key = (outcome, outcome == ReadOutcome.Failed ? error : 0);
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        _pool.AssertNoLeaks();
        // Not vacuous: the damage reached every ending.
        Assert.True(outcomes.ContainsKey((ReadOutcome.Closed, 0)), "no run reached the close");
        Assert.True(outcomes.ContainsKey((ReadOutcome.NeedMore, 0)), "no run ended incomplete");
        Assert.True(outcomes.ContainsKey((ReadOutcome.Failed, WebSocketCloseStatus.ProtocolError)), "no 1002");
        Assert.True(outcomes.ContainsKey((ReadOutcome.Failed, WebSocketCloseStatus.InvalidPayloadData)), "no 1007");
        Assert.True(outcomes.ContainsKey((ReadOutcome.Failed, WebSocketCloseStatus.MessageTooBig)), "no 1009");
    }

    /// <summary>
    /// Feeds <paramref name="wire"/> as a pipe would: it arrives in random pieces, the reader sees everything not yet
    /// consumed (in random segments over the same memory, so in-place unmasking persists), until it stops or the input
    /// runs out.
    /// </summary>
    private static (ReadOutcome, WebSocketCloseStatus) FeedAsAPipe(MessageReader reader, byte[] wire, Random random, RecordingSink sink)
    {
        var start = 0;
        var arrived = 0;
        while (true)
        {
            arrived = Math.Min(wire.Length, arrived + random.Next(1, 600));
            var pending = Segments.View(wire.AsMemory(start, arrived - start), Enumerable.Range(0, 64).Select(_ => random.Next(1, 200)));
            var outcome = reader.Read(pending, sink, out var consumed, out _, out var error);
            if (outcome != ReadOutcome.NeedMore)
            {
                return (outcome, error);
            }
            start += (int)pending.Slice(pending.Start, consumed).Length;
            if (arrived == wire.Length)
            {
                return (outcome, error);
            }
        }
    }

    private static void AssertAll(RecordingSink sink, int context, byte[]? big = null)
    {
        var expected = big is null ? 3 : 4;
        Assert.True(sink.Messages.Count == expected, $"at {context}: {sink.Messages.Count} messages");
        Assert.Equal((WebSocketMessageKind.Text, "hello"), (sink.Messages[0].Kind, System.Text.Encoding.UTF8.GetString(sink.Messages[0].Payload)));
        Assert.Equal(ClientFrames.Pattern(300), sink.Messages[1].Payload);
        Assert.Equal("héllo wörld", System.Text.Encoding.UTF8.GetString(sink.Messages[2].Payload));
        if (big is not null)
        {
            Assert.Equal(big, sink.Messages[3].Payload);
        }
        Assert.Equal("ping"u8.ToArray(), Assert.Single(sink.Pings));
        Assert.Single(sink.Pongs);
        Assert.Equal((1000, "bye"), sink.Close);
    }

    /// <summary>Reads as a pipe would: feed what is there, keep the unconsumed rest, until the reader stops or the bytes run out.</summary>
    internal static ReadOutcome ReadAll(MessageReader reader, ReadOnlySequence<byte> bytes, IFrameSink sink, out WebSocketCloseStatus error)
    {
        var outcome = reader.Read(bytes, sink, out var consumed, out _, out error);
        return outcome;
    }
}
