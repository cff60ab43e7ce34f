using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
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
/// A broadcast wakes an idle I/O loop, whose drainer writes 16 connections a turn: the loop holds their sends until the
/// burst's drainer is done or the batch is half full, so the broadcast reaches the kernel in a few
/// <c>io_uring_enter</c> calls instead of one per drainer turn — unless the connections have a backlog.
/// </summary>
[Collection(LoopCountersCollection.Name)]
public sealed class LoopBurstTests
{
    private const int Subscribers = 256;
    private const int LoopBudget = Connections.SendScheduler.LoopBudget; // writers per drainer turn on a loop
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The handler broadcasts on the loop that read the message, so all 256 writers are queued before the drainer runs
    /// there: 16 turns of 16 writers, held until half the ring (128) is queued, so two batches. Before the loops held a
    /// burst's sends it was 16, one per drainer turn.
    /// </summary>
    [SkippableFact]
    public async Task ABroadcastFromAMessageOnAnIdleLoopGoesToTheKernelInTwoBatchesNotOnePerDrainerTurn()
    {
        await using var rig = await Rig.StartAsync();
        await rig.BroadcastAndCountAsync(messages: 1, expectedBatches: 2);
    }

    /// <summary>
    /// Two messages in one write: the loop reads both, so every connection has two broadcasts waiting when the drainer
    /// reaches it. That is a backlog: the burst ends at the first writer, and each drainer turn's sends go out at once
    /// (16 batches of 16), as flat-out traffic needs (<see cref="IoLoop.NoteBacklog"/>).
    /// </summary>
    [SkippableFact]
    public async Task TwoBroadcastsWaitingForEachConnectionEndTheBurstAndTheSendsGoOutAtEveryDrainerTurn()
    {
        await using var rig = await Rig.StartAsync();
        await rig.BroadcastAndCountAsync(messages: 2, expectedBatches: Subscribers / LoopBudget);
    }

    /// <summary>A raw-kind server with 256 subscribers and one publisher (raw clients), and the broadcasts it counts.</summary>
    private sealed class Rig(WebSocketServer server, BroadcastHandler handler, List<RawClient> clients) : IAsyncDisposable
    {
        public static async Task<Rig> StartAsync()
        {
            Skip.IfNot(IoLoop.IsSupported && WebSocketServer.IoRings > 0, "no I/O loops with io_uring here");
            var handler = new BroadcastHandler();
            // No idle pings during the test (they would be sends and batches of their own).
            var server = await WebSocketServer.StartAsync(
                new WebSocketServerOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), Sockets = SocketTransportKind.Raw, IdleTimeout = TimeSpan.FromMinutes(10) },
                handler);
            var clients = new List<RawClient>();
            var rig = new Rig(server, handler, clients);
            try
            {
                for (var i = 0; i <= Subscribers; i++) // the last one publishes
                {
                    var client = await RawClient.ConnectAsync(server.Endpoint);
                    clients.Add(client);
                    await client.WriteAsync(RawClient.Upgrade());
                    Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
                }
                await Eventually.TrueAsync(() => handler.Opened.Count == Subscribers + 1, s_deadline, "every connection opened");
                return rig;
            }
            catch
            {
                await rig.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// Four rounds of <paramref name="messages"/> messages in one write by the publisher, each after the loop went idle;
        /// the first not counted (the publisher's receive loop may still have been starting on the thread pool when it
        /// arrived, and then reads it there, off the loop). Each counted round must take <paramref name="expectedBatches"/>.
        /// </summary>
        public async Task BroadcastAndCountAsync(int messages, int expectedBatches)
        {
            var publisher = clients[^1];
            for (var round = -1; round < 3; round++)
            {
                var batches = IoLoop.RingBatches;
                var sends = IoLoop.RingSends;
                var payloads = Enumerable.Range(0, messages).Select(i => new[] { (byte)(round + 1), (byte)i }).ToArray();
                await publisher.WriteAsync(ClientFrames.Concat([.. payloads.Select(p => ClientFrames.Binary(p))]));
                foreach (var client in clients.Take(Subscribers))
                {
                    foreach (var payload in payloads)
                    {
                        var (opcode, received) = await client.ReadFrameAsync();
                        Assert.Equal(2, opcode);
                        Assert.Equal(payload, received);
                    }
                }
                // A client can read its message before the loop has collected that send's completion (the kernel
                // delivers it inside io_uring_enter), so the count is waited for.
                await Eventually.TrueAsync(() => IoLoop.RingSends - sends >= Subscribers, s_deadline, "every send counted by the loops' rings");
                if (round < 0)
                {
                    continue;
                }
                Assert.True(handler.LastOnLoop, "the broadcast did not run on an I/O loop");
                Assert.Equal(Subscribers, IoLoop.RingSends - sends); // one send per connection, whatever it had waiting
                Assert.Equal(expectedBatches, IoLoop.RingBatches - batches);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
            await server.DisposeAsync();
        }
    }

    /// <summary>Sends every message to every other open connection, as one shared frame.</summary>
    private sealed class BroadcastHandler : IWebSocketHandler
    {
        public ConcurrentDictionary<WebSocketConnection, bool> Opened { get; } = new();

        /// <summary>The last message was handled on an I/O loop's thread.</summary>
        public bool LastOnLoop { get; private set; }

        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept());

        public ValueTask OnOpenAsync(WebSocketConnection connection)
        {
            Opened[connection] = true;
            return ValueTask.CompletedTask;
        }

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
        {
            LastOnLoop = IoLoop.Current is not null;
            var frame = SharedFrame.Create(payload.ToArray(), kind);
            foreach (var other in Opened.Keys)
            {
                if (other != connection)
                {
                    other.Send(frame);
                }
            }
            frame.Release();
        }

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status)
        {
            Opened.TryRemove(connection, out _);
            return ValueTask.CompletedTask;
        }
    }
}
