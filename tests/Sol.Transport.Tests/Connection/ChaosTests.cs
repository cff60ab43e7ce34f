using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Sol.Testing;
using Sol.Transport.Tests.Support;
using Xunit.Abstractions;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// Real sockets, many clients at once, most of them misbehaving, while the server echoes and broadcasts from another
/// thread: what the fuzz tests do in memory, here with the real loops, sender and timers racing each other.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int Workers = 32;
    // SOL_CHAOS_SECONDS makes it a soak run (the test command keeps the default).
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(
        double.Parse(Environment.GetEnvironmentVariable("SOL_CHAOS_SECONDS") ?? "2.5", System.Globalization.CultureInfo.InvariantCulture));

    private enum Behaviour
    {
        Good,            // messages (some fragmented) echoed in order, then a clean close 1000
        Garbage,         // random bytes after the handshake
        AbortMidMessage, // half a large frame, then a reset
        SlowThenAbort,   // reads nothing while broadcasts queue up, then a reset
        PartialHandshake,
        PingFlood,       // 200 pings unread, then a clean close
        FinWithoutClose, // the TCP connection ends with no close frame
    }

    [Theory]
    [InlineData(SocketTransportKind.Raw, true)]
    [InlineData(SocketTransportKind.Raw, false)] // one sendmsg per flush instead of the loops' io_uring batches
    [InlineData(SocketTransportKind.Pipelines, true)]
    [InlineData(SocketTransportKind.Kestrel, true)]
    public async Task ManyMisbehavingClientsAtOnceLeaveNoConnectionOrBufferBehind(SocketTransportKind sockets, bool ringSends)
    {
        var pool = new CountingArrayPool();
        var handler = new ChaosHandler(pool);
        var swallowed = Sockets.IoLoop.Swallowed;
        var options = new WebSocketServerOptions { Sockets = sockets, BufferPool = pool, HandshakeTimeout = TimeSpan.FromSeconds(1), RingSends = ringSends };
        var server = await WebSocketServer.StartAsync(options, handler);
        var done = new ConcurrentDictionary<Behaviour, int>();
        var failures = new ConcurrentQueue<string>();
        try
        {
            using var stop = new CancellationTokenSource(s_duration);
            var broadcaster = Task.Run(() => handler.BroadcastUntilAsync(stop.Token));
            var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
            {
                var random = new Random(20261130 + w);
                for (var round = 0; !stop.IsCancellationRequested; round++)
                {
                    var behaviour = (Behaviour)random.Next(Enum.GetValues<Behaviour>().Length);
                    try
                    {
                        await RunAsync(server.Endpoint, behaviour, random, (w << 16) | round);
                        done.AddOrUpdate(behaviour, 1, (_, n) => n + 1);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        failures.Enqueue($"{behaviour}: {e.GetType().Name}: {e.Message}");
                    }
                }
            })).ToArray();
            await Task.WhenAll(workers).WaitAsync(s_duration + TimeSpan.FromSeconds(60));
            await broadcaster.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Empty(failures);
            Assert.All(Enum.GetValues<Behaviour>(), b => Assert.True(done.GetValueOrDefault(b) > 0, $"{b} never ran"));
            // Every connection the server opened ends, once.
            await Eventually.TrueAsync(() => handler.OpenCount == 0, TimeSpan.FromSeconds(15), "every connection to end");
        }
        finally
        {
            await server.DisposeAsync();
        }

        output.WriteLine($"{sockets}: {handler.Opened} connections opened; {string.Join(", ", done.OrderBy(d => d.Key).Select(d => $"{d.Key} {d.Value}"))}");
        Assert.True(handler.Opened > Workers, $"only {handler.Opened} connections opened");
        Assert.Empty(handler.ClosedTwice);
        Assert.Null(handler.Error);
        pool.AssertNoLeaks();
        Assert.Equal(swallowed, Sockets.IoLoop.Swallowed);
    }

    private static async Task RunAsync(IPEndPoint endpoint, Behaviour behaviour, Random random, int id)
    {
        using var client = await RawClient.ConnectAsync(endpoint, socket =>
        {
            socket.NoDelay = true;
            if (behaviour == Behaviour.SlowThenAbort)
            {
                socket.ReceiveBufferSize = 4096; // the server's queue grows sooner
            }
        });
        var upgrade = System.Text.Encoding.ASCII.GetBytes(RawClient.Upgrade());
        if (behaviour == Behaviour.PartialHandshake)
        {
            await client.WriteAsync(upgrade[..random.Next(1, upgrade.Length)]);
            return; // dispose: a FIN mid-request
        }
        await client.WriteAsync(upgrade);
        Assert.StartsWith("HTTP/1.1 101", await client.ReadHeadAsync(), StringComparison.Ordinal);

        switch (behaviour)
        {
            case Behaviour.Good:
                var expected = new Queue<byte[]>();
                var count = random.Next(1, 6);
                for (var i = 0; i < count; i++)
                {
                    var payload = new byte[random.Next(2, 70_000)];
                    random.NextBytes(payload);
                    (payload[0], payload[1]) = (0xE0, (byte)i);
                    expected.Enqueue(payload);
                    await client.WriteAsync(random.Next(3) == 0 ? Fragmented(payload, random) : ClientFrames.Binary(payload));
                }
                while (expected.Count > 0)
                {
                    var (opcode, data) = await ReadWholeFrameAsync(client);
                    if (opcode == 0x2 && data.Length > 0 && data[0] == 0xE0)
                    {
                        Assert.True(expected.Dequeue().AsSpan().SequenceEqual(data), $"echo {data[1]} of client {id:x} differs");
                    }
                    else
                    {
                        Assert.True(opcode is 0x2 or 0xA, $"unexpected opcode {opcode} (closed with {ServerFrames.CloseCode(data)}?)");
                    }
                }
                await client.WriteAsync(ClientFrames.Close(1000));
                Assert.Equal(1000, await ReadUntilCloseAsync(client));
                break;
            case Behaviour.Garbage:
                var garbage = new byte[random.Next(1, 300)];
                random.NextBytes(garbage);
                await client.WriteAsync(garbage);
                await client.DrainAsync(TimeSpan.FromMilliseconds(200)); // whatever comes, then go
                client.Reset();
                break;
            case Behaviour.AbortMidMessage:
                var big = ClientFrames.Binary(ClientFrames.Pattern(200_000));
                await client.WriteAsync(big[..random.Next(2, big.Length - 1)]);
                client.Reset();
                break;
            case Behaviour.SlowThenAbort:
                await Task.Delay(random.Next(50, 400));
                client.Reset();
                break;
            case Behaviour.PingFlood:
                var ping = ClientFrames.Frame(0x9, "ping"u8);
                for (var i = 0; i < 200; i++)
                {
                    await client.WriteAsync(ping);
                }
                await client.WriteAsync(ClientFrames.Close(1000));
                Assert.Equal(1000, await ReadUntilCloseAsync(client));
                break;
            case Behaviour.FinWithoutClose:
                client.Socket.Shutdown(SocketShutdown.Send);
                await client.DrainAsync(TimeSpan.FromSeconds(10)); // the server ends too
                break;
        }
    }

    /// <summary>A frame from the server, which fragments nothing.</summary>
    private static async Task<(int Opcode, byte[] Payload)> ReadWholeFrameAsync(RawClient client)
    {
        var frame = await client.ReadFrameAsync();
        Assert.True(client.LastFin, "the server fragments nothing");
        return frame;
    }

    /// <summary>Reads frames until the server's close, returning its code (-1 for none).</summary>
    private static async Task<int> ReadUntilCloseAsync(RawClient client)
    {
        while (true)
        {
            var (opcode, payload) = await ReadWholeFrameAsync(client);
            if (opcode == 0x8)
            {
                return ServerFrames.CloseCode(payload);
            }
        }
    }

    private static byte[] Fragmented(byte[] payload, Random random)
    {
        var cut = random.Next(1, payload.Length);
        return ClientFrames.Concat(
            ClientFrames.Frame(0x2, payload.AsSpan(0, cut), fin: false),
            ClientFrames.Frame(0x9, "between"u8),
            ClientFrames.Frame(0x0, payload.AsSpan(cut), fin: true));
    }

    /// <summary>Echoes every message and, from another thread, broadcasts to every open connection; counts ends.</summary>
    private sealed class ChaosHandler(ArrayPool<byte> pool) : IWebSocketHandler
    {
        private readonly ConcurrentDictionary<WebSocketConnection, int> _open = new();
        private readonly ConcurrentDictionary<WebSocketConnection, int> _closed = new();
        private int _opened;

        public int OpenCount => _open.Count;

        public int Opened => Volatile.Read(ref _opened);

        public IEnumerable<WebSocketConnection> ClosedTwice => _closed.Where(c => c.Value != 1).Select(c => c.Key);

        public string? Error { get; private set; }

        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept());

        public ValueTask OnOpenAsync(WebSocketConnection connection)
        {
            Interlocked.Increment(ref _opened);
            if (!_open.TryAdd(connection, 0))
            {
                Error = "a connection opened twice";
            }
            return ValueTask.CompletedTask;
        }

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
        {
            if (!_open.ContainsKey(connection))
            {
                Error = "a message for a connection that is not open";
            }
            connection.Send(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), kind);
        }

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status)
        {
            _open.TryRemove(connection, out _);
            _closed.AddOrUpdate(connection, 1, (_, n) => n + 1);
            return ValueTask.CompletedTask;
        }

        /// <summary>Every 2 ms: a snapshot (newest replaces unsent) to everyone, and every tenth a reliable message.</summary>
        public async Task BroadcastUntilAsync(CancellationToken stop)
        {
            var payload = new byte[3000];
            payload[0] = 0xB0;
            for (var tick = 0; !stop.IsCancellationRequested; tick++)
            {
                var snapshot = SharedFrame.Create(payload.AsSpan(0, 100 + (tick % 2900)), WebSocketMessageKind.Binary, pool);
                var reliable = tick % 10 == 0 ? SharedFrame.Create(payload.AsSpan(0, 512), WebSocketMessageKind.Binary, pool) : null;
                using (SendBatch.Begin())
                {
                    foreach (var connection in _open.Keys)
                    {
                        connection.SendLatest(snapshot);
                        if (reliable is not null)
                        {
                            connection.Send(reliable);
                        }
                    }
                }
                snapshot.Release();
                reliable?.Release();
                try
                {
                    await Task.Delay(2, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
