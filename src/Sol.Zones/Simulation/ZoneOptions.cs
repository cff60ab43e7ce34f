namespace Sol.Zones.Simulation;

/// <summary>Rules of the simulation shared by every zone of a <see cref="ZoneWorld"/>.</summary>
public sealed record ZoneOptions
{
    /// <summary>Ticks per second; the step's time delta is <c>1 / TickRate</c>.</summary>
    public int TickRate { get; init; } = 20;

    /// <summary>
    /// Simulated time (seconds) at tick 0: a zone's time at tick <c>t</c> is <c>StartTime + t / TickRate</c>, and
    /// planets stand where their orbits put them at that time. A server sets it to galaxy time (seconds since the galaxy
    /// was made) when it starts, so that planets go on from where they were instead of starting over at every start.
    /// </summary>
    public double StartTime { get; init; }

    /// <summary>A zone's simulated time at <paramref name="tick"/>.</summary>
    public double TimeAt(long tick) => StartTime + (tick / (double)TickRate);

    /// <summary>Ship types, by index (at most 256). NPCs use <see cref="NpcShipClass"/>.</summary>
    public IReadOnlyList<ShipClass> ShipClasses { get; init; } = [new ShipClass("scout", 300, 150, 3f, 100f)];

    /// <summary>Index into <see cref="ShipClasses"/> of the NPC ships.</summary>
    public int NpcShipClass { get; init; }

    /// <summary>Patrolling NPC ships per system zone.</summary>
    public int NpcsPerSystem { get; init; } = 3;

    /// <summary>Seed of the NPC patrols (each zone derives its own stream from it).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>How close (units) a ship must be to a gate to jump through it.</summary>
    public double GateRadius { get; init; } = 150;

    /// <summary>How far beyond a planet's radius (units) a ship may be to land on it.</summary>
    public double LandingMargin { get; init; } = 100;

    /// <summary>
    /// How far from a planet surface's centre (units) a landing arrives: on the side of the surface the ship came from
    /// (its bearing from the planet when it landed, turned by up to ±0.25 rad), at 0.8-1.2 times this (both by the
    /// owner), so ships landing together do not arrive on one spot. Taking off goes the other way: a ship away from the
    /// centre leaves the planet on that side.
    /// </summary>
    public double LandingSiteRadius { get; init; } = 150;

    /// <summary>
    /// The least distance (units) a landing keeps from ships standing on the surface: one that would arrive nearer goes
    /// to the next free place along its circle around the centre (the web client draws 80 units as 40 px, a ship about
    /// 24 px across). 0: wherever the bearing says.
    /// </summary>
    public double LandingSpacing { get; init; } = 60;

    /// <summary>Hull points per second lost inside a star's damage radius.</summary>
    public float StarDamagePerSecond { get; init; } = 50f;

    /// <summary>Capacity of each zone's input ring (rounded up to a power of two).</summary>
    public int InboxCapacity { get; init; } = 1024;

    /// <summary>
    /// Entities a system zone has room for before it first grows (beyond its stars, planets, gates and NPCs). Small by
    /// default: a galaxy has a zone per system and per planet, most of them empty; growth doubles, once. A planet
    /// surface starts with none and makes room when its first ship lands.
    /// </summary>
    public int InitialShipCapacity { get; init; } = 4;

    /// <summary>Where a destroyed ship reappears when its system has no gate: this far from the centre on +x.</summary>
    public double RespawnDistance { get; init; } = 5_000;

    /// <summary>The time step in seconds.</summary>
    public double TimeStep => 1.0 / TickRate;

    /// <summary>Throws when the options cannot run.</summary>
    public void Validate()
    {
        if (TickRate is < 1 or > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(TickRate), TickRate, "tick rate must be 1..10000 Hz");
        }
        if (!double.IsFinite(StartTime) || StartTime < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(StartTime), StartTime, "start time must be a finite number of seconds, 0 or more");
        }
        if (ShipClasses is null || ShipClasses.Count is 0 or > 256)
        {
            throw new ArgumentException("between 1 and 256 ship classes are needed", nameof(ShipClasses));
        }
        if ((uint)NpcShipClass >= (uint)ShipClasses.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(NpcShipClass), NpcShipClass, "not an index of ShipClasses");
        }
        if (NpcsPerSystem < 0 || InboxCapacity < 1 || InitialShipCapacity < 0)
        {
            throw new ArgumentException("NpcsPerSystem, InboxCapacity and InitialShipCapacity must not be negative (inbox at least 1)");
        }
    }
}
