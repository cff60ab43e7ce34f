using System.Net.WebSockets;
using Sol.Testing;
using Sol.Transport.Connections;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// A tick's sends to one connection go out in one flush: while a <see cref="SendBatch"/> is open no writer is scheduled,
/// so no drainer can run between two of them. Drainers are captured and run by hand, so what runs when is exact.
/// </summary>
public sealed class SendBatchTests
{
    [Fact]
    public async Task EverythingSentToAConnectionInABatchIsWrittenAndFlushedOnce()
    {
        var (pool, drainers, transport, connection, run, _) = OpenWithDrainersByHand();
        var snapshot = SharedFrame.Create("snapshot"u8, WebSocketMessageKind.Binary, pool);
        var flushesBefore = transport.Flushes;

        using (SendBatch.Begin())
        {
            connection.SendLatest(snapshot, "ack"u8);
            Assert.Empty(drainers); // held: nothing can write this connection before the batch ends
            connection.Send("error"u8);
            Assert.Empty(drainers);
            Assert.Equal(2, connection.QueuedEntries);
        }

        var drainer = Assert.Single(drainers);
        drainers.Clear();
        drainer.Execute();
        Assert.Equal(flushesBefore + 1, transport.Flushes);
        var frames = await SendQueueTests.ReadFramesAsync(transport, 3);
        Assert.Equal(["snapshot", "ack", "error"], frames.Select(f => System.Text.Encoding.ASCII.GetString(f.Payload)));
        snapshot.Release();
        await CloseAndCheckAsync(connection, drainers, transport, run, pool);
    }

    [Fact]
    public async Task WithoutABatchADrainerCanRunBetweenTwoSendsAndFlushesTwice()
    {
        // The case the batch is for: a drainer that runs between two sends (here by hand) writes the first alone.
        var (pool, drainers, transport, connection, run, _) = OpenWithDrainersByHand();
        var flushesBefore = transport.Flushes;

        connection.Send("first"u8);
        RunAll(drainers);
        connection.Send("second"u8);
        RunAll(drainers);

        Assert.Equal(flushesBefore + 2, transport.Flushes);
        Assert.Equal(2, (await SendQueueTests.ReadFramesAsync(transport, 2)).Count);
        await CloseAndCheckAsync(connection, drainers, transport, run, pool);
    }

    [Fact]
    public async Task AConnectionClosedWhileItsWriterIsHeldSendsItsMessagesThenTheCloseWhenTheBatchEnds()
    {
        var (pool, drainers, transport, connection, run, handler) = OpenWithDrainersByHand();

        using (SendBatch.Begin())
        {
            connection.Send("last words"u8);
            connection.Close(WebSocketCloseStatus.NormalClosure);
            Assert.Empty(drainers);
        }
        RunAll(drainers);

        var frames = await SendQueueTests.ReadFramesAsync(transport, 2);
        Assert.Equal("last words", System.Text.Encoding.ASCII.GetString(frames[0].Payload));
        Assert.Equal(1000, ServerFrames.CloseCode(frames[1].Payload));
        await SendQueueTests.CloseAsync(connection, transport, run, answer: true);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    [Fact]
    public async Task AConnectionAbortedWhileItsWriterIsHeldEndsAndGivesItsBuffersBackWhenTheBatchEnds()
    {
        var (pool, drainers, transport, connection, run, handler) = OpenWithDrainersByHand();

        using (SendBatch.Begin())
        {
            connection.Send(new byte[100]);
            transport.Abort(); // the socket is gone while the writer waits for the batch
        }
        RunAll(drainers);

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        RunAll(drainers);
        Assert.Equal((WebSocketCloseStatus)1006, Assert.Single(handler.Closed).Status);
        pool.AssertNoLeaks();
    }

    [Fact]
    public void NestedBatchesReleaseAtTheOutermostEndAndADefaultOneHoldsNothing()
    {
        var (_, drainers, _, connection, _, _) = OpenWithDrainersByHand();

        using (SendBatch.Begin())
        {
            using (SendBatch.Begin())
            {
                connection.Send("a"u8);
            }
            Assert.True(SendBatch.IsOpen);
            Assert.Empty(drainers);
        }
        Assert.False(SendBatch.IsOpen);
        Assert.Single(drainers);

        default(SendBatch).Dispose(); // not begun: ends nothing
        Assert.False(SendBatch.IsOpen);
        RunAll(drainers);
        connection.Close(WebSocketCloseStatus.NormalClosure);
        RunAll(drainers);
    }

    [Fact]
    public void CloseAllEndsABatchLeftOpenAndReleasesWhatItHeld()
    {
        // What an I/O loop does after each event or posted item when a handler began a batch and never ended it.
        var (_, drainers, _, connection, _, _) = OpenWithDrainersByHand();

        _ = SendBatch.Begin();
        _ = SendBatch.Begin();
        connection.Send("held"u8);
        Assert.Empty(drainers);

        Assert.True(SendBatch.CloseAll());
        Assert.False(SendBatch.IsOpen);
        Assert.Single(drainers);
        Assert.False(SendBatch.CloseAll()); // nothing open any more
        RunAll(drainers);
        connection.Close(WebSocketCloseStatus.NormalClosure);
        RunAll(drainers);
    }

    [Fact]
    public async Task AWriterThatHasNotStoppedWhenTheConnectionEndsKeepsTheTransportUntilItStops()
    {
        // The writer is scheduled but its drainer does not run (a stalled scheduler): the connection gives up waiting
        // for it, aborts, and ends; releasing the transport would give the output's memory back under a writer that may
        // still write into it, so that waits until the writer stops.
        var pool = new CountingArrayPool();
        var drainers = new Queue<IThreadPoolWorkItem>();
        var transport = new PipeTransport(scheduler: new SendScheduler(maxDrainers: 1, drainers.Enqueue));
        var (connection, run) = SendQueueTests.Open(transport, pool, out _, closeTimeout: TimeSpan.FromMilliseconds(50));
        connection.Send([1, 2, 3]);
        Assert.Single(drainers);

        await transport.ClientOutput.CompleteAsync(); // the peer goes away
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(transport.Aborted);
        Assert.Equal(0, transport.Disposals);
        RunAll(drainers); // the writer runs at last, finds itself stopped, and writes nothing
        await Eventually.TrueAsync(() => transport.Disposals == 1, TimeSpan.FromSeconds(10), "the transport released after the writer stopped");
        pool.AssertNoLeaks();
    }

    /// <summary>A connection whose drainers are queued here instead of running: the test runs them when it says.</summary>
    private static (CountingArrayPool Pool, Queue<IThreadPoolWorkItem> Drainers, PipeTransport Transport,
        WebSocketConnection Connection, Task Run, RecordingHandler Handler) OpenWithDrainersByHand()
    {
        var pool = new CountingArrayPool();
        var drainers = new Queue<IThreadPoolWorkItem>();
        var transport = new PipeTransport(scheduler: new SendScheduler(maxDrainers: 1, drainers.Enqueue));
        var (connection, run) = SendQueueTests.Open(transport, pool, out var handler);
        return (pool, drainers, transport, connection, run, handler);
    }

    /// <summary>Closes from our side, lets the drainers write the close, finishes the handshake and checks for leaks.</summary>
    private static async Task CloseAndCheckAsync(WebSocketConnection connection, Queue<IThreadPoolWorkItem> drainers,
        PipeTransport transport, Task run, CountingArrayPool pool)
    {
        connection.Close(WebSocketCloseStatus.NormalClosure);
        RunAll(drainers);
        await SendQueueTests.CloseAsync(connection, transport, run, answer: true);
        pool.AssertNoLeaks();
    }

    private static void RunAll(Queue<IThreadPoolWorkItem> drainers)
    {
        while (drainers.TryDequeue(out var drainer))
        {
            drainer.Execute();
        }
    }
}
