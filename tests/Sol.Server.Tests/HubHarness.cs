using System.Net.WebSockets;
using Google.FlatBuffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Protocol;
using Sol.Server.Assets;
using Sol.Server.Auth;
using Sol.Server.Game;
using Sol.Server.Game.Port;
using Sol.Server.Hosting;
using Sol.Server.Metrics;
using Sol.Server.Progress;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Server.Tests;

/// <summary>
/// A game hub over a 6-system galaxy in a SQLite store, with no port, socket or clock of its own: the test steps the
/// zones and runs the hub's between-ticks pass by hand, on its own thread, so every interleaving is the test's choice.
/// </summary>
internal sealed class HubHarness : IAsyncDisposable
{
    private HubHarness(ISolStore store, GalaxyModel galaxy, Guid galaxyId, GameRules rules, ZoneWorld world, GameHub hub, PlayerWriteBehind progress)
    {
        Store = store;
        Galaxy = galaxy;
        GalaxyId = galaxyId;
        Rules = rules;
        World = world;
        Hub = hub;
        Progress = progress;
        Scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 1, PinThreads = false });
    }

    public ISolStore Store { get; }

    public GalaxyModel Galaxy { get; }

    private Guid GalaxyId { get; }

    public GameRules Rules { get; }

    /// <summary>The hub's token service (a test logs sessions out through it).</summary>
    public TokenService Tokens { get; private init; } = null!;

    public ZoneWorld World { get; }

    public GameHub Hub { get; }

    public PlayerWriteBehind Progress { get; }

    public ZoneScheduler Scheduler { get; }

    /// <param name="hubStore">Wraps the store the hub founds colonies through (a test's gate on that call).</param>
    /// <param name="log">The hub's logger.</param>
    /// <param name="progressStore">Wraps the store the write-behind saves players through.</param>
    /// <param name="directoryStore">Wraps the store arrivals load (or create) their player through.</param>
    /// <param name="rules">Changes the game's rules (as read from the assets).</param>
    /// <param name="colonies">Colonies the hub starts with (as read from the database at a start).</param>
    public static async Task<HubHarness> StartAsync(
        string databaseFile, int viewShips = 96, TimeSpan? resumeGrace = null, Func<IPlayerStore, IPlayerStore>? hubStore = null, ILogger? log = null,
        Func<IPlayerStore, IPlayerStore>? progressStore = null, Func<IPlayerStore, IPlayerStore>? directoryStore = null,
        Func<GameRules, GameRules>? rules = null, IReadOnlyList<Colony>? colonies = null)
    {
        var store = await SolStore.OpenAsync(databaseFile);
        var galaxy = GalaxyGenerator.Generate("main", GalaxyParameters.Default(6, 2));
        var summary = await store.SaveGalaxyAsync(galaxy, replace: false);
        var loaded = GameRules.Load(AssetCatalog.Load(Path.Combine(AppContext.BaseDirectory, "assets")));
        var gameRules = rules is null ? loaded : rules(loaded);
        var options = new ServerOptions
        {
            SnapshotInterval = TimeSpan.FromHours(1),
            TickRate = 20,
            ViewShips = viewShips,
            ResumeGrace = resumeGrace ?? new ServerOptions().ResumeGrace,
        };
        var clock = new GalaxyClock(summary.CreatedAt, TimeProvider.System);
        var players = new PlayerDirectory(directoryStore is null ? store : directoryStore(store), galaxy, summary.Id, gameRules, clock, 2);
        var progress = new PlayerWriteBehind(progressStore is null ? store : progressStore(store), TimeSpan.FromHours(1), NullLogger.Instance);
        var world = new ZoneWorld(galaxy, new ZoneOptions
        {
            ShipClasses = [.. gameRules.Ships.Select(s => new ShipClass(s.Id, s.MaxSpeed, s.Thrust, (float)s.TurnRate, (float)s.Hull))],
        });
        var tokens = new TokenService(new byte[32], TimeSpan.FromHours(1));
        var hub = new GameHub(
            world, gameRules, tokens, players, progress, new ServerMetrics(), options, clock,
            colonies ?? [], hubStore is null ? store : hubStore(store), log ?? NullLogger.Instance)
        {
            Port = new ReusingPort(),
        };
        return new HubHarness(store, galaxy, summary.Id, gameRules, world, hub, progress) { Tokens = tokens };
    }

    /// <summary>A player (home: system 1) saved in the store before its first connection: where the test wants its ship.</summary>
    public async Task SavePlayerAsync(Guid accountId, ZoneId zone, double x, double y, double hull, Guid? playerId = null)
    {
        await Store.CreateAccountAsync(new Account(accountId, $"pilot-{accountId:N}"[..20], null, DateTimeOffset.UtcNow));
        await Store.SavePlayersAsync([new PlayerRecord
        {
            Id = playerId ?? Guid.NewGuid(),
            AccountId = accountId,
            GalaxyId = GalaxyId,
            Zone = zone,
            X = x,
            Y = y,
            Credits = 1000,
            ShipType = Rules.Ships[0].Id,
            Hull = hull,
            HomeSystemId = 1,
            Explored = [1],
            Version = 1,
            UpdatedAt = DateTimeOffset.UtcNow,
        }]);
    }

    /// <summary>Saves the connection's player where the test wants its ship, connects it and queues its join.</summary>
    public async Task JoinAsync(CountingConnection connection, ZoneId zone, double x, double y, double hull, Guid? playerId = null)
    {
        await SavePlayerAsync(connection.Identity.AccountId, zone, x, y, hull, playerId);
        await Hub.OnConnectedAsync(connection);
        Pass();
    }

    /// <summary>The hub's between-ticks pass for the world's current tick (joins, leaves, transfers, ...).</summary>
    public void Pass() => Hub.OnTickCompleted(World.Tick);

    /// <summary>One tick: step, each awake zone's snapshot to the hub, then (unless told not to) the between-ticks pass.</summary>
    public void Step(bool pass = true)
    {
        Scheduler.StepOnce();
        foreach (var zone in World.Zones)
        {
            if (zone.IsAwake)
            {
                Hub.OnZoneStepped(zone);
            }
        }
        if (pass)
        {
            Pass();
        }
    }

    /// <summary>Steps until <paramref name="condition"/> holds; false after <paramref name="ticks"/> ticks.</summary>
    public bool StepUntil(Func<bool> condition, int ticks = 2_000)
    {
        for (var i = 0; i < ticks && !condition(); i++)
        {
            Step();
        }
        return condition();
    }

    /// <summary>The saved record, once everything staged is written.</summary>
    public async Task<PlayerRecord> SavedAsync(Guid accountId)
    {
        await Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return (await Store.LoadPlayerAsync(accountId, GalaxyId))!;
    }

    /// <summary>The colonies in the store.</summary>
    public Task<IReadOnlyList<Colony>> ColoniesAsync() => Store.ListColoniesAsync(GalaxyId);

    public async ValueTask DisposeAsync()
    {
        Scheduler.Dispose();
        await Progress.DisposeAsync();
        await Store.DisposeAsync();
    }

    /// <summary>A port whose shared message is one reused buffer (the tests are about the hub).</summary>
    private sealed class ReusingPort : IGamePort
    {
        private readonly Shared _shared = new();

        public string Description => "in memory";

        public System.Net.IPEndPoint Endpoint { get; } = new(System.Net.IPAddress.Loopback, 0);

        public int Connections => 0;

        public long RefusedForRoom => 0;

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
}

/// <summary>A connection that counts what the hub sends it, and notes its reliable messages (<see cref="Log"/>).</summary>
/// <param name="resumeClientId">The client id it asks to resume (the <c>client_id</c> of a reconnecting page).</param>
internal sealed class CountingConnection(long id, Guid? accountId = null, string? resumeClientId = null) : IGameConnection
{
    private readonly List<string> _log = [];

    public long Id { get; } = id;

    public GameIdentity Identity { get; } = new(accountId ?? Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(1), resumeClientId);

    public string Protocol => "sol.v1";

    public int Reliable { get; private set; }

    public int Ticks { get; private set; }

    public int Kept { get; private set; }

    public WebSocketCloseStatus? ClosedWith { get; private set; }

    /// <summary>The planets of the player's colonies in the last PlayerState.</summary>
    public IReadOnlyList<uint> Colonies { get; private set; } = [];

    /// <summary>The colonies listed by the last ZoneEnter.</summary>
    public int ZoneColonies { get; private set; }

    /// <summary>The reliable messages in order: their payload type, with the zone of a ZoneEnter and the code of an Error.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>Reliable sends throw (a test of what a failing send must not stop).</summary>
    public bool FailSends { get; set; }

    public void SendReliable(ReadOnlySpan<byte> message)
    {
        if (FailSends)
        {
            throw new InvalidOperationException("send failed (test)");
        }
        Reliable++;
        var m = ServerMessage.GetRootAsServerMessage(new ByteBuffer(message.ToArray()));
        if (m.PayloadType == ServerPayload.PlayerState)
        {
            var state = m.PayloadAsPlayerState();
            Colonies = [.. Enumerable.Range(0, state.ColoniesLength).Select(state.Colonies)];
        }
        else if (m.PayloadType == ServerPayload.ZoneEnter)
        {
            ZoneColonies = m.PayloadAsZoneEnter().ColoniesLength;
        }
        var entry = m.PayloadType switch
        {
            ServerPayload.ZoneEnter => $"ZoneEnter:{m.PayloadAsZoneEnter().ZoneId}",
            ServerPayload.Error => $"Error:{m.PayloadAsError().Code}",
            var other => other.ToString(),
        };
        lock (_log)
        {
            _log.Add(entry);
        }
    }

    public void SendTick(SharedMessage snapshot, ReadOnlySpan<byte> ack, bool keep = false)
    {
        snapshot.AddReference();
        Ticks++;
        Kept += keep ? 1 : 0;
        snapshot.Release();
    }

    public void Close(WebSocketCloseStatus status, string reason) => ClosedWith ??= status;
}
