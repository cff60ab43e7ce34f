namespace Sol.Zones.Scheduling;

/// <summary>How a <see cref="ZoneScheduler"/> runs. The tick rate comes from the world's <see cref="Simulation.ZoneOptions"/>.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Worker threads; default one per core.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Pin worker i to core <c>i mod cores</c> (Linux only; elsewhere a log line says it was skipped).</summary>
    public bool PinThreads { get; init; } = true;

    /// <summary>Reassign zones to workers by measured load every this many ticks (and whenever the awake set changes).</summary>
    public int RebalanceInterval { get; init; } = 20;

    /// <summary>Called after each zone step (on the worker) and after each tick (on the coordinator).</summary>
    public IZoneStepObserver? Observer { get; init; }

    /// <summary>Where the scheduler reports pinning and faults; off the hot path.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Called once, on the loop's thread, when the real-time loop ends with an exception (a step or an observer threw):
    /// no tick runs after it. A server stops on it rather than serve a world that stands still. What it throws is ignored.
    /// </summary>
    public Action<Exception>? Faulted { get; init; }

    /// <summary>Name of the <see cref="System.Diagnostics.Metrics.Meter"/> the scheduler publishes.</summary>
    public string MeterName { get; init; } = ZoneScheduler.DefaultMeterName;
}
