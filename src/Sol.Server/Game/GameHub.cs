using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Server.Assets;
using Sol.Server.Auth;
using Sol.Server.Game.Port;
using Sol.Server.Game.Wire;
using Sol.Server.Hosting;
using Sol.Server.Metrics;
using Sol.Server.Progress;
using Sol.Zones.Simulation;
using Sol.Zones.Transfers;

namespace Sol.Server.Game;

/// <summary>
/// Joins connections to the zone world: the game's side of every connection (<see cref="IGameHandler"/>) and the
/// server's hook into every tick (<see cref="Zones.Scheduling.IZoneStepObserver"/>).
/// </summary>
/// <remarks>
/// <para>Threads: connection events arrive on socket threads and only queue work (joins, leaves, player updates);
/// the coordinator applies it between ticks in <see cref="OnTickCompleted"/>, together with the tick's transfers,
/// so subscriptions change while no worker steps. Workers, in <see cref="OnZoneStepped"/>, encode the zone's snapshot
/// once, share the bytes with every subscriber and add each one's tiny Ack.</para>
/// <para>Ordering: a session's ZoneEnter is queued on the coordinator after the last snapshot of the old zone was
/// queued (that zone already stepped this tick) and before any snapshot of the new one (it steps next tick), and each
/// connection sends in queue order, so no old-zone snapshot ever follows a ZoneEnter.</para>
/// Split by concern: <c>GameHub.Connections.cs</c> (handshake, messages, disconnects), <c>GameHub.Ticks.cs</c>.
/// </remarks>
public sealed partial class GameHub
{
    /// <summary>
    /// Messages a second a client may send (a burst of twice that is allowed): an input a tick and room for pings and
    /// requests, at least 60 (at <c>--tick-rate 120</c> a fixed 60 closed every client that sent an input a tick).
    /// </summary>
    public double MessageRate { get; }

    /// <summary>
    /// Colonize and SetRoute a second a client may send (a burst of <see cref="RequestBurst"/>), within
    /// <see cref="MessageRate"/>: each costs far more than an input (a database transaction, a search of the whole gate
    /// graph), so beyond this they are answered <c>TooManyRequests</c> and not carried out. Reauth is not in it: a token
    /// check is cheap, and a refresh lost to map clicks would end the session at the token's expiry (helper-55).
    /// </summary>
    public const double RequestRate = 4;

    /// <inheritdoc cref="RequestRate"/>
    public const double RequestBurst = 8;

    private readonly ZoneWorld _world;
    private readonly GalaxyModel _galaxy;
    private readonly GameRules _rules;
    private readonly TokenService _tokens;
    private readonly PlayerDirectory _players;
    private readonly PlayerWriteBehind _progress;
    private readonly ServerMetrics _metrics;
    private readonly ServerOptions _options;
    private readonly GalaxyClock _clock;
    private readonly ILogger _log;
    private readonly Persistence.IPlayerStore _store;

    // Socket threads.
    private readonly ConcurrentDictionary<long, GameSession> _byConnection = new();
    private readonly ConcurrentDictionary<Guid, GameSession> _byAccount = new();
    private readonly Dictionary<Guid, AccountGate> _arriving = new();
    private readonly ConcurrentQueue<GameSession> _joins = new();
    private readonly ConcurrentQueue<GameSession> _leaves = new();
    private readonly ConcurrentQueue<(GameSession Session, int[] Route)> _routes = new();
    private readonly ConcurrentQueue<GameSession> _detaches = new();
    private readonly ConcurrentQueue<(GameSession Session, IGameConnection Connection, TaskCompletionSource<bool> Done)> _resumes = new();
    private readonly ConcurrentQueue<GameSession> _colonizeRequests = new();
    private readonly ConcurrentQueue<ColonizeResult> _colonizeResults = new();

    // Workers (several at once).
    private readonly ConcurrentQueue<long> _destroyed = new();
    private long _nextOwner;

    // Coordinator (read by workers during a step, changed only between ticks).
    private readonly Dictionary<long, GameSession> _byOwner = [];

    // An owner's credits, for the value of its ship's Destroyed event. Read by zone workers during a tick, as the
    // refusals' owners are; _byOwner and the records change between ticks only.
    private readonly Func<long, long> _creditsOf;
    private readonly List<GameSession> _detached = [];
    private readonly ZoneChannel?[] _channels;
    private readonly ShipTransfer[] _transfers = new ShipTransfer[1024];
    private readonly ServerMessageWriter _coordinatorWriter = new(4096);
    private readonly Dictionary<int, List<ColonyView>> _colonies; // planet id -> its colonies, oldest first
    // Player id -> the planets of its colonies: PlayerState's list without a pass over every colony (helper-59: 200,000
    // colonies halved the tick rate). Read by arrivals on socket threads too, so a new array replaces an old one.
    private readonly ConcurrentDictionary<Guid, int[]> _coloniesOf = new();
    private readonly List<Task> _colonizing = []; // database transactions started and maybe not finished (see ColonizeAsync)
    private readonly Dictionary<int, int> _colonizingOn = []; // planet id -> its colonize transactions in flight
    private readonly long _saveEveryTicks;

    public GameHub(
        ZoneWorld world, GameRules rules, TokenService tokens, PlayerDirectory players, PlayerWriteBehind progress,
        ServerMetrics metrics, ServerOptions options, GalaxyClock clock, IReadOnlyList<Persistence.Model.Colony> colonies, Persistence.IPlayerStore store, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(options);
        _world = world;
        _galaxy = world.Galaxy;
        _rules = rules;
        _tokens = tokens;
        _players = players;
        _progress = progress;
        _metrics = metrics;
        _options = options;
        MessageRate = Math.Max(60, options.TickRate + 40);
        _clock = clock;
        _log = log;
        _store = store;
        _channels = new ZoneChannel?[world.Zones.Length];
        _creditsOf = owner => _byOwner.TryGetValue(owner, out var session) ? session.Player.Credits : 0;
        _colonies = [];
        PlaceColonies(colonies);
        _saveEveryTicks = Math.Max(1, (long)Math.Round(options.SnapshotInterval.TotalSeconds * options.TickRate));
    }

    /// <summary>The port the hub shares snapshot bytes through; set once the port is listening.</summary>
    public IGamePort? Port { get; set; }

    /// <summary>Sessions connected now.</summary>
    public int Sessions => _byConnection.Count;

    /// <summary>The player's ship class: its index in the rules' ships and the zones' classes (0 for an unknown type).</summary>
    private int ShipClassOf(Persistence.Model.PlayerRecord player) => Math.Max(0, _rules.ShipIndex(player.ShipType));

    /// <summary>
    /// The colonies read at start-up: listed, indexed by owner and placed on their planets' surfaces (no event). A planet
    /// shows at most <see cref="GameRules.MaxColoniesPerPlanet"/> (the oldest; more can only come from a database filled
    /// some other way), which bounds its surface's and its system's ZoneEnter.
    /// </summary>
    private void PlaceColonies(IReadOnlyList<Persistence.Model.Colony> colonies)
    {
        var hidden = 0;
        foreach (var colony in colonies.OrderBy(static c => c.PlanetId).ThenBy(static c => c.FoundedAt))
        {
            if (!_colonies.TryGetValue(colony.PlanetId, out var list))
            {
                _colonies[colony.PlanetId] = list = [];
            }
            if (list.Count >= GameRules.MaxColoniesPerPlanet || !_world.PlaceColony(colony.PlanetId, colony.X, colony.Y))
            {
                hidden++;
                continue;
            }
            list.Add(new ColonyView(colony.PlanetId, colony.PlayerId.ToString("D"), (colony.FoundedAt - _clock.Epoch).TotalSeconds, (float)colony.X, (float)colony.Y));
            AddColonyOf(colony.PlayerId, colony.PlanetId);
        }
        if (hidden > 0)
        {
            _log.LogWarning(
                "{Count} colonies are not shown: beyond {Most} on their planet (the oldest are shown), or on a planet this galaxy does not have",
                hidden, GameRules.MaxColoniesPerPlanet);
        }
    }

    private void AddColonyOf(Guid player, int planetId) =>
        _coloniesOf.AddOrUpdate(player, static (_, p) => [p], static (_, planets, p) => [.. planets, p], planetId);

    private ZoneChannel Channel(ZoneId zone)
    {
        var index = _world.IndexOf(zone);
        return _channels[index] ??= new ZoneChannel(
            _rules.DestroyedPenalty, zone.Kind == ZoneKind.System ? _world.Galaxy.StarsOf(zone.Id) : default, _creditsOf);
    }
}
