using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Testing;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>The outbound queue: ordering, the replaceable latest slot with its trailer, the 1008 backlog limit, no leaked buffers.</summary>
public sealed class SendQueueTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AnUnsentLatestIsReplacedAndTheNewestTakesItsQueuePositionWithItsTrailer()
    {
        var pool = new CountingArrayPool();
        // A writer that stalls on its first flush until the test reads: what is queued meanwhile is one batch.
        var transport = new PipeTransport(toClient: new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var (connection, run) = Open(transport, pool, out var handler);
        var a = SharedFrame.Create("A"u8, WebSocketMessageKind.Binary, pool);
        var b = SharedFrame.Create("B"u8, WebSocketMessageKind.Binary, pool);

        connection.Send("r0"u8);
        await Eventually.TrueAsync(() => transport.ClientInput.TryRead(out var r) && Peek(transport, r), s_timeout, "the first flush");
        connection.Send("r1"u8);
        connection.SendLatest(a, "ack-a"u8);
        connection.Send("r2"u8);
        connection.SendLatest(b, "ack-b"u8);
        connection.Send(a);
        connection.Send("r3"u8, WebSocketMessageKind.Text);

        var frames = await ReadFramesAsync(transport, 7);

        Assert.Equal(["r0", "r1", "r2", "B", "ack-b", "A", "r3"], frames.Select(f => System.Text.Encoding.UTF8.GetString(f.Payload)));
        Assert.Equal(0x1, frames[^1].Opcode);
        Assert.Equal(1, a.References); // the connection's references were released
        Assert.Equal(1, b.References);
        a.Release();
        b.Release();
        await CloseAsync(connection, transport, run);
        pool.AssertNoLeaks();
        Assert.Single(handler.Closed);
    }

    [Fact]
    public async Task AReliableBacklogOverTheLimitClosesWith1008AndDropsTheBacklog()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport(toClient: new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var (connection, run) = Open(transport, pool, out var handler, maxQueuedBytes: 100);
        var shared = SharedFrame.Create(new byte[30], WebSocketMessageKind.Binary, pool);

        connection.Send("first"u8);
        await Eventually.TrueAsync(() => transport.ClientInput.TryRead(out var r) && Peek(transport, r), s_timeout, "the first flush");
        connection.Send(new byte[60]);
        connection.Send(shared);
        connection.Send(new byte[20]); // 110 > 100
        connection.Send("dropped after close"u8);

        var frames = await ReadFramesAsync(transport, 2);

        Assert.Equal("first"u8.ToArray(), frames[0].Payload);
        Assert.Equal(0x8, frames[1].Opcode);
        Assert.Equal(1008, ServerFrames.CloseCode(frames[1].Payload));
        Assert.Equal(1, shared.References);
        shared.Release();
        await CloseAsync(connection, transport, run, answer: true);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task TheBacklogLimitCountsTheBatchBeingFlushed()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport(toClient: new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var (connection, run) = Open(transport, pool, out var handler, maxQueuedBytes: 100);

        // The writer takes 80 bytes and its flush waits for the client, which reads nothing yet: those bytes are still
        // this connection's (before: the limit counted only what was queued, so up to twice it could be held).
        connection.Send(new byte[80]);
        await Eventually.TrueAsync(() => connection.QueuedEntries == 0 && transport.ClientInput.TryRead(out var r) && Peek(transport, r), s_timeout, "the first flush");
        connection.Send(new byte[40]); // 80 + 40 > 100

        var frames = await ReadFramesAsync(transport, 2);
        Assert.Equal(80, frames[0].Payload.Length);
        Assert.Equal(0x8, frames[1].Opcode);
        Assert.Equal(1008, ServerFrames.CloseCode(frames[1].Payload));
        await CloseAsync(connection, transport, run, answer: true);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task AFlushedBatchNoLongerCountsAgainstTheBacklogLimit()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport();
        var (connection, run) = Open(transport, pool, out var handler, maxQueuedBytes: 100);

        // 80 bytes at a time, each flushed before the next: never more than 80 held, so none is over the limit.
        for (var i = 0; i < 5; i++)
        {
            connection.Send(new byte[80]);
            var frame = Assert.Single(await ReadFramesAsync(transport, 1));
            Assert.Equal(80, frame.Payload.Length);
            await Eventually.TrueAsync(() => connection.FlushingBytes == 0, s_timeout, "the flush's end"); // a moment after the client has the bytes
        }
        await CloseAsync(connection, transport, run);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task PingsWhileTheClientReadsNothingLeaveOnlyTheNewestPongQueued()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport(toClient: new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var (connection, run) = Open(transport, pool, out var handler);

        connection.Send("first"u8);
        await Eventually.TrueAsync(() => transport.ClientInput.TryRead(out var r) && Peek(transport, r), s_timeout, "the first flush");
        // The writer now waits on the client: 1,000 pings arrive meanwhile (the last with a longer payload), then a message.
        for (var i = 0; i < 1000; i++)
        {
            var payload = System.Text.Encoding.ASCII.GetBytes(i == 999 ? "ping 999, the newest one" : $"ping {i}");
            await transport.ClientOutput.WriteAsync(ClientFrames.Frame(0x9, payload));
        }
        await transport.ClientOutput.WriteAsync(ClientFrames.Text("read"));
        await Eventually.TrueAsync(() => !handler.Messages.IsEmpty, s_timeout, "every ping was read");
        Assert.Equal(1, connection.QueuedEntries); // one pong, not 1,000
        connection.Send("after"u8);

        var frames = await ReadFramesAsync(transport, 3);

        Assert.Equal("first", System.Text.Encoding.ASCII.GetString(frames[0].Payload));
        Assert.Equal(0xA, frames[1].Opcode);
        Assert.Equal("ping 999, the newest one", System.Text.Encoding.ASCII.GetString(frames[1].Payload));
        Assert.Equal("after", System.Text.Encoding.ASCII.GetString(frames[2].Payload));
        await CloseAsync(connection, transport, run);
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task QueuedSendsOfAConnectionThatDiesAreReleased()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport(toClient: new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var (connection, run) = Open(transport, pool, out _);
        var shared = SharedFrame.Create(new byte[30], WebSocketMessageKind.Binary, pool);

        connection.Send("first"u8);
        await Eventually.TrueAsync(() => transport.ClientInput.TryRead(out var r) && Peek(transport, r), s_timeout, "the first flush");
        connection.Send(new byte[60]);
        connection.Send(shared);
        connection.SendLatest(shared, "t"u8);
        transport.Abort();
        await run.WaitAsync(s_timeout);

        Assert.Equal(1, shared.References);
        shared.Release();
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task AClientThatStopsReadingAndGoesAwayEndsWithAbnormalClosure()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport();
        var (connection, run) = Open(transport, pool, out var handler);

        await transport.ClientInput.CompleteAsync(); // the socket's send side is gone: the writer's flush says so
        connection.Send(new byte[100]);
        await Eventually.TrueAsync(() => connection.WriterStopped, s_timeout, "the writer stopped");
        connection.Send("dropped"u8);
        await transport.ClientOutput.CompleteAsync(); // and the client's bytes end without a close frame
        await run.WaitAsync(s_timeout);

        Assert.Equal((WebSocketCloseStatus)1006, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    [Theory]
    [InlineData(1000, 1000)]
    [InlineData(4999, 4999)]
    [InlineData(1005, -1)]
    [InlineData(1006, -1)]
    [InlineData(1015, -1)]
    public async Task CloseSendsItsCodeAndAReasonCutToTheFrameLimitOrNoCodeWhenTheStatusMayNotBeSent(int status, int onTheWire)
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport();
        var (connection, run) = Open(transport, pool, out _);

        connection.Close((WebSocketCloseStatus)status, new string('é', 100)); // 200 UTF-8 bytes
        connection.Close(WebSocketCloseStatus.InternalServerError, "ignored: only the first close counts");
        var close = Assert.Single(await ReadFramesAsync(transport, 1));

        Assert.Equal(0x8, close.Opcode);
        Assert.Equal(onTheWire, ServerFrames.CloseCode(close.Payload));
        if (onTheWire > 0)
        {
            Assert.Equal(new string('é', 61), System.Text.Encoding.UTF8.GetString(close.Payload.AsSpan(2))); // 122 of 123 bytes
        }
        else
        {
            Assert.Empty(close.Payload);
        }
        await CloseAsync(connection, transport, run, answer: true);
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task MessagesArrivingAfterTheServerClosedAreNotHandedToTheHandler()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport();
        var (connection, run) = Open(transport, pool, out var handler);
        await transport.ClientOutput.WriteAsync(ClientFrames.Binary([1]));
        await Eventually.TrueAsync(() => handler.Messages.Count == 1, s_timeout, "the first message");

        // Before, the handler got every message until the peer's close frame or the close timeout (5 s): a client closed
        // for its rate or logged out went on having its requests carried out.
        connection.Close(WebSocketCloseStatus.PolicyViolation, "too many messages");
        await transport.ClientOutput.WriteAsync(ClientFrames.Binary([2]));
        await transport.ClientOutput.WriteAsync(ClientFrames.Frame(0x9, [7])); // still read: a ping among them
        await CloseAsync(connection, transport, run, answer: true);

        Assert.Equal([1], Assert.Single(handler.Messages).Payload);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    internal static (WebSocketConnection Connection, Task Run) Open(PipeTransport transport, ArrayPool<byte> pool, out RecordingHandler handler,
        int maxQueuedBytes = 1 << 20, TimeSpan? closeTimeout = null)
    {
        var options = new WebSocketServerOptions { MaxQueuedBytes = maxQueuedBytes, BufferPool = pool, CloseTimeout = closeTimeout ?? TimeSpan.FromSeconds(5) };
        var connection = new WebSocketConnection(transport, null, null, options, pool, NullLogger.Instance);
        handler = new RecordingHandler { Echo = false };
        return (connection, connection.RunAsync(handler));
    }

    /// <summary>Leaves what was read in the pipe (examined, not consumed) and says whether anything was there.</summary>
    private static bool Peek(PipeTransport transport, ReadResult result)
    {
        var any = !result.Buffer.IsEmpty;
        transport.ClientInput.AdvanceTo(result.Buffer.Start);
        return any;
    }

    internal static async Task<List<(int Opcode, bool Fin, byte[] Payload)>> ReadFramesAsync(PipeTransport transport, int count)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        var bytes = new List<byte>();
        while (true)
        {
            var result = await transport.ClientInput.ReadAsync(timeout.Token);
            bytes.AddRange(result.Buffer.ToArray());
            transport.ClientInput.AdvanceTo(result.Buffer.End);
            var frames = ServerFrames.Parse([.. bytes]);
            if (frames.Count >= count || result.IsCompleted)
            {
                return frames;
            }
        }
    }

    internal static async Task CloseAsync(WebSocketConnection connection, PipeTransport transport, Task run, bool answer = false)
    {
        if (!answer)
        {
            connection.Close(WebSocketCloseStatus.NormalClosure);
        }
        await transport.ClientOutput.WriteAsync(ClientFrames.Close(1000));
        await transport.ClientOutput.CompleteAsync();
        // Drain what the server still writes (its close frame) so its writer is never stuck.
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var result = await transport.ClientInput.ReadAsync();
                transport.ClientInput.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        });
        await run.WaitAsync(s_timeout);
    }
}
