using System.Collections.Concurrent;
using Sol.Core.Galaxy;
using Sol.Core.Mathematics;
using Sol.Zones.Input;
using Sol.Zones.State;
using Sol.Zones.Transfers;

namespace Sol.Zones.Simulation;

/// <summary>
/// Every zone of one galaxy (one per system, one per planet surface), the directory of which zone holds each player's
/// ship, and the between-ticks phase that applies server commands and transfers. Stepped by a
/// <see cref="Scheduling.ZoneScheduler"/>.
/// </summary>
/// <remarks>
/// Thread rules: <see cref="SpawnShip"/>, <see cref="RemoveShip"/>, <see cref="SpawnColony"/>, <see cref="PostInput"/>,
/// the <c>Request*</c> helpers, <see cref="TryGetZoneOf"/> and <see cref="DrainTransfers"/> are safe from any thread
/// at any time. Spawns, removals and transfers take effect between ticks, on the scheduler's coordinator, in a fixed
/// order (transfers of the finished tick in zone order then trigger order; then commands in submission order), which
/// is what makes results independent of the number of workers. A ship is in exactly one zone's state at every moment a
/// worker or the server can look: the only code that moves it runs while no worker steps.
/// </remarks>
public sealed class ZoneWorld
{
    private readonly Zone[] _zones;
    private readonly int _systemCount;
    private readonly ConcurrentDictionary<long, int> _directory = new();
    private readonly Dictionary<long, int> _location = [];
    private readonly Lock _commandLock = new();
    private List<ZoneCommand> _commands = [];
    private List<ZoneCommand> _applying = [];
    private readonly Lock _transferLock = new();
    private readonly Queue<ShipTransfer> _transfers = new();
    private int[] _awake;
    private int _awakeCount;
    private bool _membershipChanged = true;
    // Zones a ship entered or left since the last PrepareTick: with the awake ones, the only zones whose state can change
    // (helper-64: walking every zone instead took 16 ms a tick at 100,000 systems whenever a ship moved).
    private readonly List<int> _touched = [];
    private int _searches; // placement searches this between-ticks pass may still run
    private readonly List<int> _candidates = [];
    // Zones that were ever awake, in the order they first woke (published by the count): only these can have counted
    // an input, so the metrics sum over them, not over every zone (helper-64: 22-34 ms a scrape at 100,000 systems).
    private readonly int[] _everAwake;
    private readonly bool[] _wokeOnce;
    private int _everAwakeCount;
    private long _transfersApplied;

    public ZoneWorld(GalaxyModel galaxy, ZoneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(galaxy);
        options ??= new ZoneOptions();
        options.Validate();
        Galaxy = galaxy;
        Options = options;
        _systemCount = galaxy.Systems.Length;
        _zones = new Zone[_systemCount + galaxy.Planets.Length];
        ShipClass[] classes = [.. options.ShipClasses];
        for (var s = 0; s < _systemCount; s++)
        {
            _zones[s] = new Zone(s, ZoneId.ForSystem(s + 1), galaxy, options, classes);
        }
        for (var p = 0; p < galaxy.Planets.Length; p++)
        {
            _zones[_systemCount + p] = new Zone(_systemCount + p, ZoneId.ForPlanet(p + 1), galaxy, options, classes);
        }
        _awake = new int[_zones.Length];
        _everAwake = new int[_zones.Length];
        _wokeOnce = new bool[_zones.Length];
    }

    public GalaxyModel Galaxy { get; }

    public ZoneOptions Options { get; }

    /// <summary>All zones: systems in id order, then planet surfaces in id order.</summary>
    public ReadOnlySpan<Zone> Zones => _zones;

    /// <summary>The last tick every awake zone completed (-1 before the first).</summary>
    public long Tick { get; internal set; } = -1;

    /// <summary>Player ships known to the directory (including spawns not applied yet).</summary>
    public int ShipCount => _directory.Count;

    /// <summary>Transfers (jumps, landings, take-offs) applied since the world was created.</summary>
    public long TransfersApplied => Volatile.Read(ref _transfersApplied);

    /// <summary>The awake zones (by index, ascending) the next tick will step; valid between ticks.</summary>
    internal ReadOnlySpan<int> AwakeZones => _awake.AsSpan(0, _awakeCount);

    /// <summary>
    /// Placement searches (<see cref="Zone.OrbitVelocityAt"/> in a system of several stars) one between-ticks pass runs
    /// at most, about 0.5 ms each; ships placed beyond them that tick get the quick estimate.
    /// </summary>
    public const int PlacementSearchesPerTick = 8;

    /// <summary>Placement searches this tick's between-ticks pass may still run (tests).</summary>
    internal int PlacementSearchesLeft => _searches;

    /// <summary>Zones awake (stepped each tick) as of the last tick's start; any thread may read it.</summary>
    public int AwakeCount => Volatile.Read(ref _awakeCount);

    /// <summary>The zone named by <paramref name="id"/>.</summary>
    public Zone GetZone(ZoneId id)
    {
        if (!TryGetZone(id, out var zone))
        {
            ThrowHelper.ThrowArgument($"no zone {id} in this galaxy", nameof(id));
        }
        return zone;
    }

    public bool TryGetZone(ZoneId id, out Zone zone)
    {
        var index = IndexOf(id);
        zone = index >= 0 ? _zones[index] : null!;
        return index >= 0;
    }

    /// <summary>
    /// Queues a new ship for <paramref name="owner"/> in <paramref name="zone"/> at (<paramref name="x"/>,
    /// <paramref name="y"/>), on a circular orbit around the stars (<see cref="Zone.OrbitVelocityAt"/>), of class <paramref name="shipClass"/>. False when the owner already has a
    /// ship (one ship per player), the owner is 0, the zone or class does not exist, or a coordinate or the heading is
    /// not finite. Inputs posted from now on are routed to that zone and applied from the first tick the ship exists.
    /// A <see cref="TransferKind.Spawned"/> outcome follows.
    /// </summary>
    /// <param name="hull">
    /// The hull it comes back with (a saved ship keeps its damage), as <see cref="ShipClass.HullOnSpawn"/> says: capped
    /// at the class's full hull; a value that is not above 0 (none saved, or NaN) means a full hull.
    /// </param>
    /// <param name="rotation">Its heading in radians (any finite value; kept in (-π, π]).</param>
    /// <param name="vx">
    /// A saved ship's velocity, so that a reconnect is no brake (helper-63); with <paramref name="vy"/> zero or not finite,
    /// the orbit's at (<paramref name="x"/>, <paramref name="y"/>). Beyond the class's top speed it is cut at the first step.
    /// </param>
    /// <param name="vy"><inheritdoc cref="SpawnShip" path="/param[@name='vx']"/></param>
    public bool SpawnShip(long owner, ZoneId zone, int shipClass, double x, double y, float hull = 0, float rotation = 0, double vx = 0, double vy = 0)
    {
        var index = IndexOf(zone);
        if (owner == 0 || index < 0 || (uint)shipClass >= (uint)Options.ShipClasses.Count || !double.IsFinite(x) || !double.IsFinite(y) ||
            !float.IsFinite(rotation))
        {
            return false;
        }
        lock (_commandLock)
        {
            if (!_directory.TryAdd(owner, index))
            {
                return false;
            }
            var finite = double.IsFinite(vx) && double.IsFinite(vy); // else the placement velocity
            _commands.Add(new ZoneCommand(ZoneCommandKind.SpawnShip, owner, index, (byte)shipClass, x, y, hull, rotation, finite ? vx : 0, finite ? vy : 0));
        }
        return true;
    }

    /// <summary>Queues the removal of <paramref name="owner"/>'s ship (disconnect). False when it has none.</summary>
    public bool RemoveShip(long owner)
    {
        lock (_commandLock)
        {
            if (!_directory.TryRemove(owner, out var index))
            {
                return false;
            }
            _commands.Add(new ZoneCommand(ZoneCommandKind.RemoveShip, owner, index, 0, 0, 0, 0, 0));
        }
        return true;
    }

    /// <summary>Queues a colony of <paramref name="owner"/> on the surface of planet <paramref name="planetId"/>, just founded (a Colonized event).</summary>
    public bool SpawnColony(long owner, int planetId, double x, double y) => QueueColony(ZoneCommandKind.SpawnColony, owner, planetId, x, y);

    /// <summary>Queues a colony that exists already (read from the database at start-up) on the surface of planet <paramref name="planetId"/>: no event.</summary>
    public bool PlaceColony(int planetId, double x, double y) => QueueColony(ZoneCommandKind.PlaceColony, 0, planetId, x, y);

    private bool QueueColony(ZoneCommandKind kind, long owner, int planetId, double x, double y)
    {
        var index = IndexOf(ZoneId.ForPlanet(planetId));
        if (index < 0 || !double.IsFinite(x) || !double.IsFinite(y))
        {
            return false;
        }
        lock (_commandLock)
        {
            _commands.Add(new ZoneCommand(kind, owner, index, 0, x, y, 0, 0));
        }
        return true;
    }

    /// <summary>
    /// Puts an input into the inbox of the zone that holds <paramref name="input"/>'s owner's ship. Lock-free and
    /// allocation-free. False when the owner has no ship. An input that races a transfer may reach the old zone and be
    /// counted there as unroutable; clients reconcile through the input sequence number in snapshots.
    /// </summary>
    public bool PostInput(in InputCommand input)
    {
        if (!_directory.TryGetValue(input.Owner, out var index))
        {
            return false;
        }
        _zones[index].Inbox.TryEnqueue(in input);
        return true;
    }

    /// <summary>Asks to jump through gate <paramref name="gateId"/> of the ship's current system.</summary>
    public bool RequestJump(long owner, uint seq, int gateId) => PostInput(InputCommand.Jump(owner, seq, gateId));

    /// <summary>Asks to land on planet <paramref name="planetId"/> of the ship's current system.</summary>
    public bool RequestLand(long owner, uint seq, int planetId) => PostInput(InputCommand.Land(owner, seq, planetId));

    /// <summary>Asks to take off from the ship's current planet surface.</summary>
    public bool RequestTakeOff(long owner, uint seq) => PostInput(InputCommand.TakeOff(owner, seq));

    /// <summary>
    /// Inputs lost so far over every zone: dropped from a full inbox (requests among them), for a ship no longer in the
    /// zone, or older than the ship's last applied one. A pass over all zones: for metrics, not per tick.
    /// </summary>
    public (long Dropped, long RequestsDropped, long Unroutable, long Stale) InputLosses()
    {
        long dropped = 0, requests = 0, unroutable = 0, stale = 0;
        var count = Volatile.Read(ref _everAwakeCount);
        foreach (var index in _everAwake.AsSpan(0, count))
        {
            var zone = _zones[index];
            dropped += zone.Inbox.Dropped;
            requests += zone.Inbox.RequestsDropped;
            unroutable += zone.UnroutableInputs;
            stale += zone.StaleInputs;
        }
        return (dropped, requests, unroutable, stale);
    }

    /// <summary>The zone the owner's inputs are routed to (where the ship is, or will be once its spawn applies).</summary>
    public bool TryGetZoneOf(long owner, out ZoneId zone)
    {
        if (_directory.TryGetValue(owner, out var index))
        {
            zone = _zones[index].Id;
            return true;
        }
        zone = default;
        return false;
    }

    /// <summary>
    /// Moves queued outcomes (spawned, removed, jumped, landed, took off) into <paramref name="destination"/>, oldest
    /// first; returns how many. Each tells the server that a player's subscription must move (or start, or end).
    /// </summary>
    public int DrainTransfers(Span<ShipTransfer> destination)
    {
        lock (_transferLock)
        {
            var n = 0;
            while (n < destination.Length && _transfers.TryDequeue(out var t))
            {
                destination[n++] = t;
            }
            return n;
        }
    }

    /// <summary>Every zone's <see cref="Zone.ComputeStateHash"/>, combined in zone order.</summary>
    public ulong ComputeStateHash()
    {
        var h = new StateHasher();
        h.Add(Tick);
        foreach (var zone in _zones)
        {
            h.Add(zone.ComputeStateHash());
        }
        return h.Value;
    }

    /// <summary>The index of a zone in <see cref="Zones"/>, or -1.</summary>
    public int IndexOf(ZoneId id) => id.Kind switch
    {
        ZoneKind.System when id.Id >= 1 && id.Id <= _systemCount => id.Id - 1,
        ZoneKind.Planet when id.Id >= 1 && id.Id <= _zones.Length - _systemCount => _systemCount + id.Id - 1,
        _ => -1,
    };

    /// <summary>Between ticks, before stepping: apply the server's commands in order, then decide who sleeps.</summary>
    internal bool PrepareTick(long tick)
    {
        _searches = PlacementSearchesPerTick; // one budget for this pass's spawns and the following transfers
        lock (_commandLock)
        {
            (_commands, _applying) = (_applying, _commands);
        }
        foreach (var command in _applying)
        {
            Apply(command, tick);
        }
        _applying.Clear();
        if (!_membershipChanged)
        {
            return false;
        }
        _membershipChanged = false;
        // The zones awake and those touched, in index order (the order a walk over every zone gave), each once.
        _candidates.Clear();
        _candidates.AddRange(_awake.AsSpan(0, _awakeCount));
        _candidates.AddRange(_touched);
        _touched.Clear();
        _candidates.Sort();
        var awake = 0;
        var previous = -1;
        foreach (var index in _candidates)
        {
            if (index == previous)
            {
                continue;
            }
            previous = index;
            var zone = _zones[index];
            if (zone.PlayerShipCount > 0)
            {
                zone.IsAwake = true;
                _awake[awake++] = index;
                if (!_wokeOnce[index])
                {
                    _wokeOnce[index] = true;
                    _everAwake[_everAwakeCount] = index;
                    Volatile.Write(ref _everAwakeCount, _everAwakeCount + 1); // the element first, then the count
                }
            }
            else if (zone.IsAwake)
            {
                zone.Sleep();
            }
        }
        Volatile.Write(ref _awakeCount, awake);
        return true;
    }

    /// <summary>Between ticks, after stepping: apply every accepted transfer, zone by zone in index order.</summary>
    internal void ApplyTransfers(long tick)
    {
        foreach (var index in AwakeZones)
        {
            var from = _zones[index];
            foreach (ref readonly var t in from.Outbox)
            {
                ApplyTransfer(from, t, tick);
            }
            from.ClearOutbox();
        }
    }

    /// <summary>The unit vector along (<paramref name="dx"/>, <paramref name="dy"/>), or the fallback when it is (nearly) 0 or
    /// not finite.</summary>
    private static (double X, double Y) Direction(double dx, double dy, double fallbackX, double fallbackY)
    {
        var length = Math.Sqrt((dx * dx) + (dy * dy));
        return length > 1e-6 && double.IsFinite(length) ? (dx / length, dy / length) : (fallbackX, fallbackY);
    }

    /// <summary>
    /// Where on a surface a landing arrives: at <paramref name="angle"/> and <paramref name="radius"/> from the centre
    /// when no ship stands within <see cref="ZoneOptions.LandingSpacing"/> of it; else at the nearest free place along
    /// that circle, trying one spacing further each way in turn around it; on a surface crowded all round, the place of
    /// those farthest from its nearest ship.
    /// </summary>
    private (double X, double Y) LandingSpot(ZoneState surface, double angle, double radius)
    {
        var spacing = Options.LandingSpacing;
        var step = spacing / radius;
        var tries = spacing > 0 ? Math.Min(64, (int)Math.Ceiling(2 * Math.PI / step)) : 1;
        (double X, double Y) best = default;
        var bestGap = -1d;
        for (var k = 0; k < tries; k++)
        {
            var offset = ((k + 1) / 2) * step * ((k & 1) == 0 ? 1 : -1); // 0, -1, +1, -2, +2 … spacings
            var (sin, cos) = Trig.SinCos(angle + offset);
            var (cx, cy) = (cos * radius, sin * radius);
            var gap = double.MaxValue;
            for (var i = 0; i < surface.Count; i++)
            {
                if (surface.Kind[i] == EntityKind.Ship)
                {
                    var (dx, dy) = (surface.PositionX[i] - cx, surface.PositionY[i] - cy);
                    gap = Math.Min(gap, Math.Sqrt((dx * dx) + (dy * dy)));
                }
            }
            if (gap >= spacing)
            {
                return (cx, cy);
            }
            if (gap > bestGap)
            {
                (best, bestGap) = ((cx, cy), gap);
            }
        }
        return best;
    }

    private void ApplyTransfer(Zone from, in PendingTransfer t, long tick)
    {
        var toIndex = IndexOf(t.To);
        var action = t.Kind switch
        {
            TransferKind.Jump => ShipAction.Jump,
            TransferKind.Land => ShipAction.Land,
            _ => ShipAction.TakeOff,
        };
        // The events name what each zone knows: leaving through its gate, landing on its planet, or taking off from the
        // planet the surface is; arriving through the new system's gate, on the planet, or from the planet taken off.
        var departed = t.Kind == TransferKind.TakeOff ? from.Id.Id : t.Target;
        var arrived = t.Kind == TransferKind.Land ? t.Target : from.Id.Id;
        // Where the ship was when the request was accepted (this tick's step), for the side it lands or takes off on.
        var (shipX, shipY) = from.TryGetEntity(t.Entity, out var leaving) ? (leaving.X, leaving.Y) : (0d, 0d);
        if (toIndex < 0 || !from.TryTakeShip(t.Owner, t.Entity, ZoneEventKind.Departed, action, departed, out var carry))
        {
            return;
        }
        var to = _zones[toIndex];
        double x = 0, y = 0;
        switch (t.Kind)
        {
            case TransferKind.Jump:
                ref readonly var partner = ref Galaxy.Gate(Galaxy.Gate(t.Target).PartnerGateId);
                (x, y) = (partner.X, partner.Y);
                arrived = partner.Id;
                break;
            case TransferKind.Land:
            {
                // On the surface's side the ship came from: its bearing from the planet (where the planet was this tick),
                // turned by up to ±0.25 rad and at 0.8-1.2 times the site's radius by the owner's own stream, so that ships
                // coming in side by side (a formation, the same gate) do not arrive on one spot either.
                var (px, py) = Galaxy.Planet(t.Target).PositionAt(Options.TimeAt(tick));
                var (ux, uy) = Direction(shipX - px, shipY - py, 1, 0);
                var spread = DeterministicRandom.ForStream(Options.Seed, (ulong)t.Owner);
                (x, y) = LandingSpot(to.State, Math.Atan2(uy, ux) + spread.NextDouble(-0.25, 0.25), Options.LandingSiteRadius * spread.NextDouble(0.8, 1.2));
                break;
            }
            case TransferKind.TakeOff:
            {
                // Out of the planet's current position (the next tick's, when the ship first steps) by its radius plus half
                // the landing margin, so the ship appears in orbit, not inside the planet: on the side of the surface the
                // ship took off from, or (from the centre) away from the star.
                ref readonly var planet = ref Galaxy.Planet(from.Id.Id);
                var (px, py) = planet.PositionAt(Options.TimeAt(tick + 1));
                var (ux, uy) = Direction(shipX, shipY, 0, 0);
                if ((ux, uy) == (0, 0))
                {
                    (ux, uy) = Direction(px, py, 1, 0);
                }
                var lift = planet.Radius + (Options.LandingMargin / 2);
                (x, y) = (px + (ux * lift), py + (uy * lift));
                break;
            }
        }
        var handle = to.AddShip(carry, x, y, ZoneEventKind.Arrived, action, arrived, null, ref _searches, fixedPoint: t.Kind == TransferKind.Jump);
        _location[t.Owner] = toIndex;
        lock (_commandLock)
        {
            // A removal (and maybe a new spawn) queued during this tick owns the directory entry now; leave it alone.
            if (!HasPendingCommand(t.Owner))
            {
                _directory.TryUpdate(t.Owner, toIndex, from.Index);
            }
        }
        Touched(from.Index);
        Touched(toIndex);
        Interlocked.Increment(ref _transfersApplied);
        Publish(new ShipTransfer(t.Owner, t.Kind, from.Id, to.Id, handle, tick));
    }

    private void Apply(in ZoneCommand command, long tick)
    {
        switch (command.Kind)
        {
            case ZoneCommandKind.SpawnShip:
                if (_location.ContainsKey(command.Owner))
                {
                    return;
                }
                var zone = _zones[command.ZoneIndex];
                var hull = Options.ShipClasses[command.ShipClass].HullOnSpawn(command.Hull);
                var rotation = (float)Math.IEEERemainder(command.Rotation, 2 * Math.PI); // [-π, π]
                var carry = new ShipCarry(command.Owner, command.ShipClass, hull, rotation <= -MathF.PI ? MathF.PI : rotation, 0);
                // A saved velocity is kept; none (a new player, a respawn's record): the placement velocity there.
                (double, double)? velocity = command.Vx != 0 || command.Vy != 0 ? (command.Vx, command.Vy) : null;
                var handle = zone.AddShip(carry, command.X, command.Y, ZoneEventKind.Spawned, ShipAction.None, 0, velocity, ref _searches);
                _location.Add(command.Owner, command.ZoneIndex);
                Touched(command.ZoneIndex);
                Publish(new ShipTransfer(command.Owner, TransferKind.Spawned, default, zone.Id, handle, tick - 1));
                break;
            case ZoneCommandKind.RemoveShip:
                if (_location.Remove(command.Owner, out var at) && _zones[at].TryTakeShip(command.Owner, default, ZoneEventKind.Removed, ShipAction.None, 0, out _))
                {
                    Touched(at);
                    Publish(new ShipTransfer(command.Owner, TransferKind.Removed, _zones[at].Id, default, default, tick - 1));
                }
                break;
            case ZoneCommandKind.SpawnColony:
                var surface = _zones[command.ZoneIndex];
                var colony = surface.AddColony(command.Owner, command.X, command.Y);
                if (surface.IsAwake)
                {
                    // (An asleep zone would hold the event for whoever lands next, hours later: helper-49.)
                    var by = surface.TryGetShip(command.Owner, out var founder) ? founder.Handle : colony;
                    surface.AppendEvent(new ZoneEvent(ZoneEventKind.Colonized, command.Owner, by, ShipAction.None, surface.Id.Id, RejectReason.None));
                }
                break;
            case ZoneCommandKind.PlaceColony:
                _zones[command.ZoneIndex].AddColony(command.Owner, command.X, command.Y);
                break;
        }
    }

    /// <summary>A ship entered or left zone <paramref name="index"/>: the next <see cref="PrepareTick"/> looks at it.</summary>
    private void Touched(int index)
    {
        _touched.Add(index);
        _membershipChanged = true;
    }

    private bool HasPendingCommand(long owner)
    {
        foreach (var c in _commands)
        {
            if (c.Owner == owner && c.Kind is not (ZoneCommandKind.SpawnColony or ZoneCommandKind.PlaceColony))
            {
                return true;
            }
        }
        return false;
    }

    private void Publish(in ShipTransfer transfer)
    {
        lock (_transferLock)
        {
            _transfers.Enqueue(transfer);
        }
    }
}
