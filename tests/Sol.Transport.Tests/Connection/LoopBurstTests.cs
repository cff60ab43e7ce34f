using System.Collections.Concurrent;
using System.Net;
using Sol.Testing;
using Sol.Transport.Sockets;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>The loops' process-wide ring counters see every server's sends, so these run alone (after the parallel tests).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoopCountersCollection
{
    public const string Name = "I/O loop counters";
}

/// <summary>
/// A tick's broadcast wakes an idle I/O loop, whose drainer writes 16 connections a turn: the loop holds their sends
/// until the burst's work is done or the batch is half full, so the broadcast reaches the kernel in a few
/// <c>io_uring_enter</c> calls instead of one per drainer turn.
/// </summary>
[Collection(LoopCountersCollection.Name)]
public sealed class LoopBurstTests
{
    private const int Clients = 256;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    [SkippableFact]
    public async Task ABroadcastToAnIdleLoopsConnectionsGoesToTheKernelInAFewBatchesNotOnePerDrainerTurn()
    {
        Skip.IfNot(IoLoop.IsSupported && WebSocketServer.IoRings > 0, "no I/O loops with io_uring here");
        var opened = new ConcurrentQueue<WebSocketConnection>();
        var handler = new RecordingHandler { Echo = false, Open = opened.Enqueue };
        await using var server = await WebSocketServer.StartAsync(
            new WebSocketServerOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), Sockets = SocketTransportKind.Raw }, handler);
        var clients = new List<RawClient>();
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                var client = await RawClient.ConnectAsync(server.Endpoint);
                clients.Add(client);
                await client.WriteAsync(RawClient.Upgrade());
                Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
            }
            await Eventually.TrueAsync(() => opened.Count == Clients, s_deadline, "every connection opened");

            // Three ticks; the fewest batches any took. Before the loops held a burst's sends it was 16 every time
            // (256 writers, 16 per drainer turn, one submission per turn); now 2 (half the ring each). A tick whose
            // sends the test thread was slow to queue can take a few more, hence the minimum.
            var fewest = long.MaxValue;
            for (var tick = 0; tick < 3; tick++)
            {
                var batches = IoLoop.RingBatches;
                var sends = IoLoop.RingSends;
                var frame = SharedFrame.Create([(byte)tick]);
                using (SendBatch.Begin())
                {
                    foreach (var connection in opened)
                    {
                        connection.Send(frame);
                    }
                }
                frame.Release();
                foreach (var client in clients)
                {
                    var (opcode, payload) = await client.ReadFrameAsync();
                    Assert.Equal(2, opcode);
                    Assert.Equal([(byte)tick], payload);
                }
                // A client can read its message before the loop has collected that send's completion (the kernel
                // delivers it inside io_uring_enter), so the count is waited for.
                await Eventually.TrueAsync(() => IoLoop.RingSends - sends >= Clients, s_deadline, "every send counted by the loops' rings");
                fewest = Math.Min(fewest, IoLoop.RingBatches - batches);
            }
            Assert.InRange(fewest, 1, 4);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
