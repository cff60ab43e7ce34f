using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Server.Assets;
using Sol.Server.Auth;
using Sol.Server.Game;
using Sol.Server.Game.Port;
using Sol.Server.Hosting;
using Sol.Server.Metrics;
using Sol.Server.Progress;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Bench.Game;

/// <summary>
/// What the game layer pays per tick to send snapshots to every client of one crowded zone: the whole zone encoded and
/// framed once for everyone (<c>--view-ships 0</c>) against a view of the nearest 96 ships encoded per client (the
/// default). The port only counts bytes, so this is the hub's cost alone (selection, encoding, acks), not the sockets'.
/// One operation = one tick's <c>OnZoneStepped</c> for every awake zone.
/// </summary>
[ShortRunJob]
public class SnapshotFanOutBenchmarks
{
    private readonly TempFolder _folder = new();
    private ISolStore _store = null!;
    private ZoneWorld _world = null!;
    private GameHub _hub = null!;
    private ZoneScheduler _scheduler = null!;
    private PlayerWriteBehind _progress = null!;
    private CountingPort _port = null!;

    /// <summary>Players, all in one system (plus its 3 NPCs).</summary>
    [Params(100, 500, 2000)]
    public int Clients { get; set; }

    /// <summary>0: everything for everyone (shared); 96: the nearest 96 ships per client.</summary>
    [Params(0, 96)]
    public int ViewShips { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _scheduler.Dispose();
        _progress.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _folder.Dispose();
    }

    [Benchmark]
    public long Tick()
    {
        foreach (var zone in _world.Zones)
        {
            if (zone.IsAwake)
            {
                _hub.OnZoneStepped(zone);
            }
        }
        return _port.Bytes;
    }

    private async Task SetupAsync()
    {
        _store = await SolStore.OpenAsync(Path.Combine(_folder.Path, "sol.db"));
        var galaxy = GalaxyGenerator.Generate("main", GalaxyParameters.Default(6, 2));
        var summary = await _store.SaveGalaxyAsync(galaxy, replace: false);
        var rules = GameRules.Load(AssetCatalog.Load(Path.Combine(AppContext.BaseDirectory, "assets")));
        var options = new ServerOptions { SnapshotInterval = TimeSpan.FromHours(1), ViewShips = ViewShips, StartingSystems = 1 };
        var clock = new GalaxyClock(summary.CreatedAt, TimeProvider.System);
        var players = new PlayerDirectory(_store, galaxy, summary.Id, rules, clock, 1);
        _progress = new PlayerWriteBehind(_store, TimeSpan.FromHours(1), NullLogger.Instance);
        _world = new ZoneWorld(galaxy, new ZoneOptions
        {
            ShipClasses = [.. rules.Ships.Select(s => new ShipClass(s.Id, s.MaxSpeed, s.Thrust, (float)s.TurnRate, (float)s.Hull))],
        });
        _hub = new GameHub(
            _world, rules, new TokenService(new byte[32], TimeSpan.FromHours(1)), players, _progress, new ServerMetrics(), options, clock,
            [], _store, NullLogger.Instance);
        _port = new CountingPort();
        _hub.Port = _port;
        for (var i = 0; i < Clients; i++)
        {
            await _hub.OnConnectedAsync(new CountingConnection(i));
        }
        _scheduler = new ZoneScheduler(_world, new SchedulerOptions { Workers = 1, PinThreads = false });
        _hub.OnTickCompleted(0);
        _scheduler.StepOnce();
        _hub.OnTickCompleted(_world.Tick);
        for (var i = 0; i < 20; i++)
        {
            _scheduler.StepOnce(); // the ships spread a little from their spawn points
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sol-bench-fanout-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    private sealed class CountingPort : IGamePort
    {
        private readonly Message _message = new();

        public long Bytes { get; private set; }

        public System.Net.IPEndPoint Endpoint { get; } = new(System.Net.IPAddress.Loopback, 0);

        public int Connections => 0;

        public long RefusedForRoom => 0;

        public string Description => "counting bytes";

        public SharedMessage Share(ReadOnlySpan<byte> payload)
        {
            Bytes += payload.Length;
            return _message.Reuse();
        }

        public Task StopAsync(TimeSpan timeout) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Message : SharedMessage
        {
            public Message Reuse()
            {
                Revive();
                return this;
            }

            protected override void ReturnToPool()
            {
            }
        }
    }

    private sealed class CountingConnection(long id) : IGameConnection
    {
        public long Id { get; } = id;

        public GameIdentity Identity { get; } = new(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(1), null);

        public string Protocol => "sol.v1";

        public void SendReliable(ReadOnlySpan<byte> message)
        {
        }

        public void SendTick(SharedMessage snapshot, ReadOnlySpan<byte> ack, bool keep = false)
        {
        }

        public void Close(WebSocketCloseStatus status, string reason)
        {
        }
    }
}
