using System.Net.WebSockets;
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
using Sol.Testing;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Server.Tests;

/// <summary>
/// The per-tick path of the game layer — encode each zone's snapshot once, share it, write every subscriber's ack, and
/// the coordinator's between-ticks pass — allocates nothing in steady state; and only a tick that destroys a player's
/// ship is sent as kept (not replaceable).
/// </summary>
public sealed class HubAllocationTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private ISolStore _store = null!;

    public async Task InitializeAsync() => _store = await SolStore.OpenAsync(_directory.File("sol.db"));

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Theory]
    [InlineData(96)] // few ships per zone: one shared snapshot per zone
    [InlineData(2)]  // crowded zones: a snapshot of the nearest ships encoded per client
    public async Task ATickOfSnapshotsAndAcksToTwentyClientsAllocatesNothing(int viewShips)
    {
        var (_, _, _, world, hub, progress) = await NewHubAsync(viewShips);
        await using var _ = progress;
        var port = new ReusingPort();
        hub.Port = port;
        var connections = Enumerable.Range(0, 20).Select(i => new CountingConnection(i)).ToList();
        foreach (var c in connections)
        {
            await hub.OnConnectedAsync(c);
        }
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 1, PinThreads = false });
        hub.OnTickCompleted(0); // queues the spawns
        scheduler.StepOnce();   // applies them
        hub.OnTickCompleted(world.Tick); // subscribes every session to its zone
        Assert.All(connections, c => Assert.True(c.Reliable >= 3)); // Welcome, PlayerState, ZoneEnter

        var bytes = AllocationBudget.SteadyStateBytes(_ => Step(scheduler, world, hub), iterations: 500);
        Assert.Equal(0, bytes);
        Assert.All(connections, c => Assert.True(c.Ticks >= 500));
    }

    [Fact]
    public async Task TheTickThatDestroysAPlayersShipIsKeptAndNoOtherIs()
    {
        var (galaxy, galaxyId, rules, world, hub, progress) = await NewHubAsync(viewShips: 96);
        await using var _ = progress;
        hub.Port = new ReusingPort();
        // A player whose saved ship sits inside a star's damage radius (the server loads it on join).
        var connection = new CountingConnection(1);
        var accountId = connection.Identity.AccountId;
        await _store.CreateAccountAsync(new Persistence.Model.Account(accountId, "moth", null, DateTimeOffset.UtcNow));
        var star = galaxy.StarsOf(1)[0];
        await _store.SavePlayersAsync([new Persistence.Model.PlayerRecord
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            GalaxyId = galaxyId,
            Zone = ZoneId.ForSystem(1),
            X = star.X + (star.DamageRadius * 0.5),
            Y = star.Y,
            Credits = 1000,
            ShipType = rules.Ships[0].Id,
            Hull = 100,
            HomeSystemId = 1,
            Version = 1,
            UpdatedAt = DateTimeOffset.UtcNow,
        }]);
        await hub.OnConnectedAsync(connection);
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 1, PinThreads = false });
        hub.OnTickCompleted(0);
        scheduler.StepOnce();
        hub.OnTickCompleted(world.Tick);

        for (var tick = 0; tick < 2_000 && connection.Kept == 0; tick++)
        {
            Step(scheduler, world, hub);
        }
        Assert.Equal(1, connection.Kept);
        Assert.True(connection.Ticks > 10, $"{connection.Ticks} ticks: the ship burned for a while in replaceable ticks first");
    }

    /// <summary>One tick by hand, on this thread: step, each awake zone's snapshot to the hub, then the hub's between-ticks pass.</summary>
    private static void Step(ZoneScheduler scheduler, ZoneWorld world, GameHub hub)
    {
        scheduler.StepOnce();
        foreach (var zone in world.Zones)
        {
            if (zone.IsAwake)
            {
                hub.OnZoneStepped(zone);
            }
        }
        hub.OnTickCompleted(world.Tick);
    }

    /// <summary>A hub over a 6-system galaxy in this test's store, with no port and no clock of its own.</summary>
    private async Task<(GalaxyModel Galaxy, Guid GalaxyId, GameRules Rules, ZoneWorld World, GameHub Hub, PlayerWriteBehind Progress)> NewHubAsync(int viewShips)
    {
        var galaxy = GalaxyGenerator.Generate("main", GalaxyParameters.Default(6, 2));
        var summary = await _store.SaveGalaxyAsync(galaxy, replace: false);
        var rules = GameRules.Load(AssetCatalog.Load(Path.Combine(AppContext.BaseDirectory, "assets")));
        var options = new ServerOptions { SnapshotInterval = TimeSpan.FromHours(1), TickRate = 20, ViewShips = viewShips };
        var clock = new GalaxyClock(summary.CreatedAt, TimeProvider.System);
        var players = new PlayerDirectory(_store, galaxy, summary.Id, rules, clock, 2);
        var progress = new PlayerWriteBehind(_store, TimeSpan.FromHours(1), NullLogger.Instance);
        var world = new ZoneWorld(galaxy, new ZoneOptions
        {
            ShipClasses = [.. rules.Ships.Select(s => new ShipClass(s.Id, s.MaxSpeed, s.Thrust, (float)s.TurnRate, (float)s.Hull))],
        });
        var hub = new GameHub(
            world, rules, new TokenService(new byte[32], TimeSpan.FromHours(1)), players, progress, new ServerMetrics(), options, clock,
            new Dictionary<int, List<Game.Wire.ColonyView>>(), _store, NullLogger.Instance);
        return (galaxy, summary.Id, rules, world, hub, progress);
    }

    /// <summary>A port whose shared message is one reused buffer (the test is about the hub's allocations).</summary>
    private sealed class ReusingPort : IGamePort
    {
        private readonly Shared _shared = new();

        public System.Net.IPEndPoint Endpoint { get; } = new(System.Net.IPAddress.Loopback, 0);

        public int Connections => 0;

        public SharedMessage Share(ReadOnlySpan<byte> payload) => _shared.Fill(payload);

        public Task StopAsync(TimeSpan timeout) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Shared : SharedMessage
        {
            private readonly byte[] _bytes = new byte[1 << 16];

            public Shared Fill(ReadOnlySpan<byte> payload)
            {
                Revive();
                payload.CopyTo(_bytes);
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

        public int Reliable { get; private set; }

        public int Ticks { get; private set; }

        public int Kept { get; private set; }

        public void SendReliable(ReadOnlySpan<byte> message) => Reliable++;

        public void SendTick(SharedMessage snapshot, ReadOnlySpan<byte> ack, bool keep = false)
        {
            snapshot.AddReference();
            Ticks++;
            Kept += keep ? 1 : 0;
            snapshot.Release();
        }

        public void Close(WebSocketCloseStatus status, string reason)
        {
        }
    }
}
