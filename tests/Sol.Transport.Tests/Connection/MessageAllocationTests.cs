using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Transport.Connections;
using Sol.Transport.Sockets;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// Thousands of messages through receive (unmask in place, handler), reliable send, broadcast (<c>Send(SharedFrame)</c>)
/// and <c>SendLatest</c> with a trailer allocate nothing. The work runs on pool threads (the writer is a thread-pool
/// work item), so the count is <see cref="GC.GetTotalAllocatedBytes(bool)"/> over the whole process, with the
/// pipes' schedulers inline so no scheduling of ours is hidden in them.
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class MessageAllocationTests
{
    private const int Rounds = 2_000;

    [Fact]
    public async Task ReceiveSendAndBroadcastAllocateNothingPerMessage()
    {
        var inline = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var transport = new PipeTransport(inline, inline);
        var pool = ArrayPool<byte>.Shared;
        var options = new WebSocketServerOptions { IdleTimeout = TimeSpan.FromMinutes(5) };
        var connection = new WebSocketConnection(transport, null, null, options, pool, NullLogger.Instance);
        using var broadcast = new BroadcastHandler(200);
        var run = connection.RunAsync(broadcast);
        var frame = ClientFrames.Binary(ClientFrames.Pattern(20));
        var expectedPerRound = (2 + 20) + 2 * (4 + 200) + (2 + BroadcastHandler.Trailer.Length);

        long best = long.MaxValue;
        for (var attempt = 0; attempt < 6 && best > 0; attempt++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < Rounds; i++)
            {
                await transport.ClientOutput.WriteAsync(frame);
                var received = 0;
                while (received < expectedPerRound)
                {
                    var result = await transport.ClientInput.ReadAsync();
                    received += (int)result.Buffer.Length;
                    transport.ClientInput.AdvanceTo(result.Buffer.End);
                }
                if (received != expectedPerRound)
                {
                    Assert.Fail($"round {i}: {received} bytes instead of {expectedPerRound}");
                }
            }
            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(broadcast.Messages >= Rounds);
        // 0 expected; a few hundred bytes of runtime noise (timers, tiering) in a round of 2,000 messages would still
        // prove nothing is allocated per message.
        Assert.True(best < 1024, $"{best} bytes allocated for {Rounds} rounds of receive + send + broadcast + latest");
        connection.Close(WebSocketCloseStatus.NormalClosure);
        await transport.ClientOutput.WriteAsync(ClientFrames.Close(1000));
        await transport.ClientOutput.CompleteAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public static TheoryData<string> Inputs() =>
        ["binary 20 B", "text 20 B", "text in two fragments", "binary 20 KiB whole", "binary 20 KiB in two pieces", "ping 20 B"];

    /// <summary>What the client writes each round (in pieces), what the server answers in all, and whether it is a message.</summary>
    private static (byte[][] Pieces, int Answer, bool IsMessage) Round(string input)
    {
        var text = System.Text.Encoding.UTF8.GetBytes("héllo wörld, ünïcode"); // 23 bytes, three of them two-byte code points
        var big = ClientFrames.Binary(ClientFrames.Pattern(20 * 1024));
        const int Others = (2 * (4 + 200)) + (2 + 8); // the broadcast, and the latest with its 8-byte trailer
        return input switch
        {
            "binary 20 B" => ([ClientFrames.Binary(ClientFrames.Pattern(20))], 2 + 20 + Others, true),
            "text 20 B" => ([ClientFrames.Frame(0x1, text)], 2 + text.Length + Others, true),
            "text in two fragments" => (
                [ClientFrames.Concat(ClientFrames.Frame(0x1, text.AsSpan(0, 2), fin: false), ClientFrames.Frame(0x0, text.AsSpan(2)))],
                2 + text.Length + Others, true), // split inside "é": the validator carries the code point across
            "binary 20 KiB whole" => ([big], 4 + (20 * 1024) + Others, true),
            "binary 20 KiB in two pieces" => ([big[..(10 * 1024)], big[(10 * 1024)..]], 4 + (20 * 1024) + Others, true), // streamed
            "ping 20 B" => ([ClientFrames.Frame(0x9, ClientFrames.Pattern(20))], 2 + 20, false), // the pong only
            _ => throw new ArgumentOutOfRangeException(nameof(input)),
        };
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task OnOneThreadReceiveSendAndBroadcastAllocateExactlyZeroBytes(string input)
    {
        // Everything inline on this thread: the pipes run their continuations where they complete, and the connection's
        // drainer runs where it is scheduled. So this thread's own allocation counter sees all of the work and none of
        // the runtime's (timers, tiering on other threads): the budget is exactly 0.
        var inline = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var transport = new PipeTransport(inline, inline, new SendScheduler(maxDrainers: 1, static item => item.Execute()));
        var options = new WebSocketServerOptions { IdleTimeout = TimeSpan.FromMinutes(5) };
        var connection = new WebSocketConnection(transport, null, null, options, ArrayPool<byte>.Shared, NullLogger.Instance);
        using var broadcast = new BroadcastHandler(200);
        var run = connection.RunAsync(broadcast);
        var (pieces, expectedPerRound, isMessage) = Round(input);
        var thread = Environment.CurrentManagedThreadId;

        long best = long.MaxValue;
        var rounds = 0;
        for (var attempt = 0; attempt < 3 && best > 0; attempt++)
        {
            var wrong = 0; // rounds that did not complete inline with the whole answer (no Assert in the loop: it allocates)
            var before = GC.GetAllocatedBytesForCurrentThread();
            rounds += Rounds;
            for (var i = 0; i < Rounds; i++)
            {
                // The server reads, handles and writes back on this thread before the last piece's write returns.
                foreach (var piece in pieces)
                {
                    if (!transport.ClientOutput.WriteAsync(piece).IsCompletedSuccessfully)
                    {
                        wrong++;
                    }
                }
                if (!transport.ClientInput.TryRead(out var result))
                {
                    wrong++;
                    continue;
                }
                if (result.Buffer.Length != expectedPerRound)
                {
                    wrong++;
                }
                transport.ClientInput.AdvanceTo(result.Buffer.End);
            }
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(0, wrong);
        }

        Assert.Equal(thread, Environment.CurrentManagedThreadId);
        Assert.Equal(isMessage ? rounds : 0, broadcast.Messages);
        Assert.Equal(0, best);
        connection.Close(WebSocketCloseStatus.NormalClosure);
        Assert.True(transport.ClientOutput.WriteAsync(ClientFrames.Close(1000)).IsCompletedSuccessfully);
        transport.ClientOutput.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(10)); // the only await: everything measured ran before it, on this thread
    }

    [Fact]
    public async Task ReliableSendsToManyConnectionsAtOnceAllocateNothingPerMessage()
    {
        // 256 connections echo two messages a round. The first echo stays unread, so each writer's flush waits (the
        // pipe pauses at 1 byte); the second echo's payload copy then stays queued on every connection at once — 256
        // buffers out at the same time, as when a tick sends every player a reliable message — until this test reads.
        // More buffers out at once than the shared ArrayPool caches per thread and core: taken from it, about three of
        // four would be new arrays every round.
        const int Connections = 256;
        const int ManyRounds = 100;
        const int EchoLength = 2 + 20;
        // The pipes stand in for sockets, so they take their blocks where both socket kinds do: from BlockMemoryPool
        // (MemoryPool<byte>.Shared would allocate 4 KiB blocks for 512 pipes, the same problem).
        var toServer = new PipeOptions(pool: BlockMemoryPool.Instance, readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline, minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);
        var toClient = new PipeOptions(pool: BlockMemoryPool.Instance, readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 1, resumeWriterThreshold: 1,
            minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);
        var options = new WebSocketServerOptions { IdleTimeout = TimeSpan.FromMinutes(5) };
        var echo = new EchoHandler();
        var transports = new PipeTransport[Connections];
        var connections = new WebSocketConnection[Connections];
        var runs = new Task[Connections];
        for (var c = 0; c < Connections; c++)
        {
            transports[c] = new PipeTransport(toServer, toClient);
            connections[c] = new WebSocketConnection(transports[c], null, null, options, ArrayPool<byte>.Shared, NullLogger.Instance);
            runs[c] = connections[c].RunAsync(echo);
        }
        var frame = ClientFrames.Binary(ClientFrames.Pattern(20));

        long best = long.MaxValue;
        for (var attempt = 0; attempt < 6 && best > 0; attempt++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < ManyRounds; i++)
            {
                foreach (var transport in transports)
                {
                    await transport.ClientOutput.WriteAsync(frame);
                }
                foreach (var transport in transports)
                {
                    WaitForBytes(transport.ClientInput, EchoLength); // this writer now waits on its flush
                }
                foreach (var transport in transports)
                {
                    await transport.ClientOutput.WriteAsync(frame); // queued behind the waiting flush
                }
                foreach (var transport in transports)
                {
                    var received = 0;
                    while (received < 2 * EchoLength)
                    {
                        var result = await transport.ClientInput.ReadAsync();
                        received += (int)result.Buffer.Length;
                        transport.ClientInput.AdvanceTo(result.Buffer.End);
                    }
                }
            }
            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(best < 1024, $"{best} bytes allocated for {ManyRounds} rounds of {2 * Connections} echoes ({(double)best / (ManyRounds * 2 * Connections):0.##} per message)");
        for (var c = 0; c < Connections; c++)
        {
            connections[c].Close(WebSocketCloseStatus.NormalClosure);
            await transports[c].ClientOutput.WriteAsync(ClientFrames.Close(1000));
            await transports[c].ClientOutput.CompleteAsync();
        }
        await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ABroadcastFramedPerMessageToManyConnectionsInASendBatchAllocatesNothing()
    {
        // As a game tick does: each message from the publisher is framed once (SharedFrame.Create, pooled), sent to
        // every subscriber inside a SendBatch, and released.
        const int Subscribers = 64;
        const int FanOutRounds = 300;
        const int Size = 200;
        var inline = new PipeOptions(pool: BlockMemoryPool.Instance, readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline, minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);
        var options = new WebSocketServerOptions { IdleTimeout = TimeSpan.FromMinutes(5) };
        var fanOut = new FanOutHandler();
        var transports = new PipeTransport[Subscribers];
        var runs = new List<Task>();
        var connections = new List<WebSocketConnection>();
        for (var c = 0; c < Subscribers; c++)
        {
            transports[c] = new PipeTransport(inline, inline);
            var subscriber = new WebSocketConnection(transports[c], null, null, options, ArrayPool<byte>.Shared, NullLogger.Instance);
            fanOut.Subscribers.Add(subscriber);
            connections.Add(subscriber);
            runs.Add(subscriber.RunAsync(fanOut));
        }
        var publisherTransport = new PipeTransport(inline, inline);
        var publisher = new WebSocketConnection(publisherTransport, null, null, options, ArrayPool<byte>.Shared, NullLogger.Instance);
        connections.Add(publisher);
        runs.Add(publisher.RunAsync(fanOut));
        var frame = ClientFrames.Binary(ClientFrames.Pattern(Size));
        const int Expected = 4 + Size; // a 200-byte binary frame from the server: 2 + 2 bytes of header

        long best = long.MaxValue;
        for (var attempt = 0; attempt < 6 && best > 0; attempt++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < FanOutRounds; i++)
            {
                await publisherTransport.ClientOutput.WriteAsync(frame);
                foreach (var transport in transports)
                {
                    var received = 0;
                    while (received < Expected)
                    {
                        var result = await transport.ClientInput.ReadAsync();
                        received += (int)result.Buffer.Length;
                        transport.ClientInput.AdvanceTo(result.Buffer.End);
                    }
                }
            }
            best = Math.Min(best, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(best < 1024, $"{best} bytes allocated for {FanOutRounds} broadcasts to {Subscribers} connections");
        for (var c = 0; c < connections.Count; c++)
        {
            connections[c].Close(WebSocketCloseStatus.NormalClosure);
            var transport = c < Subscribers ? transports[c] : publisherTransport;
            await transport.ClientOutput.WriteAsync(ClientFrames.Close(1000));
            await transport.ClientOutput.CompleteAsync();
        }
        await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Spins (allocating nothing) until <paramref name="length"/> bytes are readable, leaving them unread.</summary>
    private static void WaitForBytes(PipeReader reader, int length)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (true)
        {
            if (reader.TryRead(out var result))
            {
                var enough = result.Buffer.Length >= length;
                reader.AdvanceTo(result.Buffer.Start);
                if (enough)
                {
                    return;
                }
            }
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail($"the echo did not arrive within 10 s");
            }
            Thread.Yield();
        }
    }

    private sealed class EchoHandler : IWebSocketHandler
    {
        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept());

        public ValueTask OnOpenAsync(WebSocketConnection connection) => ValueTask.CompletedTask;

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload) =>
            connection.Send(payload.FirstSpan, kind);

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status) => ValueTask.CompletedTask;
    }

    private sealed class FanOutHandler : IWebSocketHandler
    {
        public List<WebSocketConnection> Subscribers { get; } = [];

        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept());

        public ValueTask OnOpenAsync(WebSocketConnection connection) => ValueTask.CompletedTask;

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
        {
            var frame = SharedFrame.Create(payload.FirstSpan, kind);
            using (SendBatch.Begin())
            {
                foreach (var subscriber in Subscribers)
                {
                    subscriber.Send(frame);
                }
            }
            frame.Release();
        }

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status) => ValueTask.CompletedTask;
    }

    private sealed class BroadcastHandler(int size) : IWebSocketHandler, IDisposable
    {
        public static readonly byte[] Trailer = [1, 2, 3, 4, 5, 6, 7, 8];

        private readonly SharedFrame _frame = SharedFrame.Create(ClientFrames.Pattern(size));
        private readonly byte[] _joined = new byte[64 * 1024]; // a payload in several of the pipe's segments, made one

        public int Messages { get; private set; }

        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept());

        public ValueTask OnOpenAsync(WebSocketConnection connection) => ValueTask.CompletedTask;

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
        {
            Messages++;
            if (payload.IsSingleSegment)
            {
                connection.Send(payload.FirstSpan, kind);
            }
            else
            {
                payload.CopyTo(_joined);
                connection.Send(_joined.AsSpan(0, (int)payload.Length), kind);
            }
            connection.Send(_frame);
            connection.SendLatest(_frame, Trailer);
        }

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status) => ValueTask.CompletedTask;

        public void Dispose() => _frame.Release();
    }
}
