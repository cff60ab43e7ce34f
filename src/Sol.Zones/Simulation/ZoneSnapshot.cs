using Sol.Core.Galaxy;

namespace Sol.Zones.Simulation;

/// <summary>
/// A view of the snapshot a zone emitted at the end of its last step: spans over the zone's reusable buffers, no copy.
/// </summary>
/// <remarks>
/// Valid until the zone steps again: read it inside <see cref="Scheduling.IZoneStepObserver.OnZoneStepped"/> (on the
/// worker, right after the step) or between ticks when the scheduler is not running.
/// </remarks>
public readonly ref struct ZoneSnapshot
{
    internal ZoneSnapshot(ZoneId zone, long tick, double time, ReadOnlySpan<EntityState> entities, ReadOnlySpan<ZoneEvent> events)
    {
        Zone = zone;
        Tick = tick;
        Time = time;
        Entities = entities;
        Events = events;
    }

    public ZoneId Zone { get; }

    /// <summary>The tick the zone stepped to (ticks count from 0 for the whole world).</summary>
    public long Tick { get; }

    /// <summary>Simulated time in seconds: <c>Tick / TickRate</c>.</summary>
    public double Time { get; }

    /// <summary>Every entity of the zone, in dense order.</summary>
    public ReadOnlySpan<EntityState> Entities { get; }

    /// <summary>What happened since the previous snapshot of this zone.</summary>
    public ReadOnlySpan<ZoneEvent> Events { get; }
}
