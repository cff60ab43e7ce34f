using Sol.Core.Galaxy;
using Sol.Core.Mathematics;
using Sol.Zones.Input;
using Sol.Zones.State;
using Sol.Zones.Transfers;

namespace Sol.Zones.Simulation;

/// <summary>
/// One zone: a solar system (stars, planets on orbits, gates, NPCs, ships) or one planet surface (landed ships,
/// colonies). Holds its struct-of-arrays state, its inbox and its reusable snapshot and event buffers.
/// </summary>
/// <remarks>
/// Thread rules: <see cref="Inbox"/> accepts inputs from any thread. Everything else belongs to whoever steps the zone:
/// one scheduler worker during a tick (the scheduler guarantees one thread at a time, and a guard throws if that is
/// ever broken), the scheduler's coordinator between ticks. Read <see cref="GetSnapshot"/> and the query methods only
/// from <see cref="Scheduling.IZoneStepObserver"/> callbacks or while the scheduler is stopped or between
/// <see cref="Scheduling.ZoneScheduler.StepOnce"/> calls.
/// </remarks>
public sealed partial class Zone
{
    private const int Chunk = 1024;

    private readonly ShipClass[] _classes;
    private readonly ZoneOptions _options;
    private readonly double _timeStep;
    private readonly Dictionary<long, EntityHandle> _ships = [];

    // Static bodies of a system zone (empty on a planet surface).
    private readonly Gate[] _gates;
    private readonly Planet[] _planets;
    private readonly EntityHandle[] _planetHandles;
    private readonly double[] _starX;
    private readonly double[] _starY;
    private readonly double[] _starMass;
    private readonly double[] _starMinDistance2;
    private readonly double[] _starDamage2;
    private readonly Planet _surfaceOf;

    // Placement velocities worked out for the points ships come back to in a system of several stars (its gates, its
    // respawn point): used by the coordinator between ticks (arrivals) and by the worker stepping the zone (respawns),
    // never both at once.
    private Dictionary<(double X, double Y, double MaxSpeed), (double Vx, double Vy)>? _placements;

    // NPC patrols: one entry per NPC, never removed (destroyed NPCs respawn).
    private readonly EntityHandle[] _npcHandles;
    private readonly double[] _npcWaypointX;
    private readonly double[] _npcWaypointY;
    private readonly double _patrolInner;
    private readonly double _patrolOuter;
    private DeterministicRandom _random;

    // Reusable per-tick buffers.
    private EntityState[] _snapshot;
    private int _snapshotCount; // rows of the last step's snapshot (ships may arrive or leave between steps)
    // (Empty until first needed, then doubled from 4: a zone nobody visits holds none of them.)
    private ZoneEvent[] _events = [];
    private int _eventCount;
    private ZoneEvent[] _pendingEvents = [];
    private int _pendingEventCount;
    private PendingTransfer[] _outbox = [];
    private int _outboxCount;
    private EntityHandle[] _requests = [];
    private int _requestCount;
    private int[] _destroyed = [];
    private int _destroyedCount;

    private int _stepping;
    private long _unroutableInputs;
    private long _staleInputs;

    /// <param name="classes">The options' ship classes as an array, one shared by every zone of the world.</param>
    internal Zone(int index, ZoneId id, GalaxyModel galaxy, ZoneOptions options, ShipClass[] classes)
    {
        Index = index;
        Id = id;
        _options = options;
        _timeStep = options.TimeStep;
        _classes = classes;
        Inbox = new InputRing(options.InboxCapacity);
        _random = DeterministicRandom.ForStream(options.Seed, ((ulong)id.Kind << 32) | (uint)id.Id);

        if (id.Kind == ZoneKind.System)
        {
            _gates = galaxy.GatesOf(id.Id).ToArray();
            _planets = galaxy.PlanetsOf(id.Id).ToArray();
            var stars = galaxy.StarsOf(id.Id);
            _starX = new double[stars.Length];
            _starY = new double[stars.Length];
            _starMass = new double[stars.Length];
            _starMinDistance2 = new double[stars.Length];
            _starDamage2 = new double[stars.Length];
            var npcs = options.NpcsPerSystem;
            State = new ZoneState(stars.Length + _planets.Length + _gates.Length + npcs + options.InitialShipCapacity);

            var outermost = 0.0;
            var innermost = 0.0;
            for (var i = 0; i < stars.Length; i++)
            {
                ref readonly var s = ref stars[i];
                _starX[i] = s.X;
                _starY[i] = s.Y;
                _starMass[i] = s.Mass;
                _starMinDistance2[i] = Math.Max(s.Radius * s.Radius, 1e-6);
                _starDamage2[i] = s.DamageRadius * s.DamageRadius;
                innermost = Math.Max(innermost, Math.Sqrt((s.X * s.X) + (s.Y * s.Y)) + Math.Max(s.DamageRadius, s.Radius));
                State.Add(EntityKind.Star, EntityFlags.None, 0, s.Id, s.X, s.Y);
            }
            _planetHandles = new EntityHandle[_planets.Length];
            for (var i = 0; i < _planets.Length; i++)
            {
                ref readonly var p = ref _planets[i];
                var (x, y) = p.PositionAt(0);
                _planetHandles[i] = State.Add(EntityKind.Planet, EntityFlags.None, 0, p.Id, x, y);
                outermost = Math.Max(outermost, p.OrbitRadius);
            }
            foreach (ref readonly var g in _gates.AsSpan())
            {
                State.Add(EntityKind.Gate, EntityFlags.None, 0, g.Id, g.X, g.Y);
                outermost = Math.Max(outermost, Math.Sqrt((g.X * g.X) + (g.Y * g.Y)));
            }

            // NPCs patrol the ring between the stars' danger and the outermost body.
            _patrolInner = innermost * 1.5;
            _patrolOuter = Math.Max(outermost, _patrolInner + 1_000);
            _npcHandles = new EntityHandle[npcs];
            _npcWaypointX = new double[npcs];
            _npcWaypointY = new double[npcs];
            var npcClass = _classes[options.NpcShipClass];
            for (var k = 0; k < npcs; k++)
            {
                var (x, y) = NextPatrolPoint();
                // Under power from its first step on (SteerNpcs gives at least a tenth of full thrust).
                var handle = State.Add(EntityKind.Npc, EntityFlags.Dynamic | EntityFlags.Thrusting, 0, k, x, y);
                State.TryGetIndex(handle, out var i);
                State.ShipClass[i] = (byte)options.NpcShipClass;
                State.Hull[i] = npcClass.Hull;
                State.Rotation[i] = (float)NextAngle();
                _npcHandles[k] = handle;
                (_npcWaypointX[k], _npcWaypointY[k]) = NextPatrolPoint();
            }
            RespawnX = _gates.Length > 0 ? _gates[0].X : options.RespawnDistance;
            RespawnY = _gates.Length > 0 ? _gates[0].Y : 0;
        }
        else
        {
            _surfaceOf = galaxy.Planet(id.Id);
            _gates = [];
            _planets = [];
            _planetHandles = [];
            _starX = _starY = _starMass = _starMinDistance2 = _starDamage2 = [];
            _npcHandles = [];
            _npcWaypointX = _npcWaypointY = [];
            State = new ZoneState(0); // room is made when the first ship lands: most surfaces are never visited
        }
        // Sized on the first step: most zones of a big galaxy never step.
        _snapshot = [];
    }

    /// <summary>The zone's place in <see cref="ZoneWorld.Zones"/>: systems first (id order), then planets (id order).</summary>
    public int Index { get; }

    public ZoneId Id { get; }

    /// <summary>The last tick this zone stepped to (-1 before its first step). Lags the world's tick while asleep.</summary>
    public long Tick { get; private set; } = -1;

    /// <summary>The simulated time of <see cref="Tick"/>, in seconds.</summary>
    public double Time { get; private set; }

    /// <summary>True when the zone holds at least one player's ship and so is stepped; false while it sleeps.</summary>
    public bool IsAwake { get; internal set; }

    /// <summary>Player ships in the zone.</summary>
    public int PlayerShipCount => _ships.Count;

    /// <summary>All entities: stars, planets, gates, NPCs, ships, colonies.</summary>
    public int EntityCount => State.Count;

    /// <summary>The zone's input ring; post through <see cref="ZoneWorld.PostInput"/>, which finds the zone of a ship.</summary>
    public InputRing Inbox { get; }

    /// <summary>Inputs drained for an owner with no ship here (it moved on, or never came).</summary>
    public long UnroutableInputs => Volatile.Read(ref _unroutableInputs);

    /// <summary>Inputs ignored because their sequence number was older than one already applied.</summary>
    public long StaleInputs => Volatile.Read(ref _staleInputs);

    /// <summary>Where destroyed ships reappear: the first gate of the system, else <see cref="ZoneOptions.RespawnDistance"/> on +x; the centre of a surface.</summary>
    public double RespawnX { get; }

    /// <inheritdoc cref="RespawnX"/>
    public double RespawnY { get; }

    internal ZoneState State { get; }

    internal ShipClass[] Classes => _classes;

    internal double TimeStep => _timeStep;

    internal float StarDamagePerSecond => _options.StarDamagePerSecond;

    internal ReadOnlySpan<double> StarX => _starX;

    internal ReadOnlySpan<double> StarY => _starY;

    internal ReadOnlySpan<double> StarMass => _starMass;

    internal ReadOnlySpan<double> StarMinDistance2 => _starMinDistance2;

    internal ReadOnlySpan<double> StarDamage2 => _starDamage2;

    internal ReadOnlySpan<PendingTransfer> Outbox => _outbox.AsSpan(0, _outboxCount);

    /// <summary>The snapshot of the last step (tick, time, entities, events), without a copy. See the thread rules.</summary>
    public ZoneSnapshot GetSnapshot() => new(Id, Tick, Time, _snapshot.AsSpan(0, _snapshotCount), _events.AsSpan(0, _eventCount));

    /// <summary>The current state of <paramref name="owner"/>'s ship here, read from the columns.</summary>
    public bool TryGetShip(long owner, out EntityState ship)
    {
        if (_ships.TryGetValue(owner, out var handle) && State.TryGetIndex(handle, out var i))
        {
            ship = Read(i);
            return true;
        }
        ship = default;
        return false;
    }

    /// <summary>The current state of one entity, read from the columns.</summary>
    public bool TryGetEntity(EntityHandle handle, out EntityState entity)
    {
        if (State.TryGetIndex(handle, out var i))
        {
            entity = Read(i);
            return true;
        }
        entity = default;
        return false;
    }

    /// <summary>A fingerprint of every column of every entity, the NPC patrol state and the tick.</summary>
    public ulong ComputeStateHash()
    {
        var h = new StateHasher();
        h.Add(Tick);
        h.Add(State.Count);
        for (var i = 0; i < State.Count; i++)
        {
            var e = Read(i);
            h.Add(((ulong)(uint)e.Handle.Slot << 32) | (uint)e.Handle.Generation);
            h.Add(((ulong)e.Kind << 16) | ((ulong)e.Flags << 8) | e.ShipClass);
            h.Add(e.Owner);
            h.Add(((ulong)(uint)e.Ref << 32) | e.InputSeq);
            h.Add(e.X);
            h.Add(e.Y);
            h.Add(e.VelocityX);
            h.Add(e.VelocityY);
            h.Add(e.Rotation);
            h.Add(e.AngularVelocity);
            h.Add(e.Hull);
            h.Add(State.ThrustInput[i]);
            h.Add(State.TurnInput[i]);
        }
        for (var k = 0; k < _npcHandles.Length; k++)
        {
            h.Add(_npcWaypointX[k]);
            h.Add(_npcWaypointY[k]);
        }
        return h.Value;
    }

    private EntityState Read(int i)
    {
        var s = State;
        return new EntityState(s.HandleAt(i), s.Kind[i], s.Flags[i], s.ShipClass[i], s.Owner[i], s.Ref[i], s.InputSeq[i],
            s.PositionX[i], s.PositionY[i], s.VelocityX[i], s.VelocityY[i], s.Rotation[i], s.AngularVelocity[i], s.Hull[i]);
    }

    private (double X, double Y) NextPatrolPoint()
    {
        var r = _random.NextDouble(_patrolInner, _patrolOuter);
        var (sin, cos) = Math.SinCos(NextAngle());
        return (r * cos, r * sin);
    }

    private double NextAngle() => _random.NextDouble(-Math.PI, Math.PI);
}
