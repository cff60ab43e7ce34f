using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sol.Zones.Simulation;

namespace Sol.Zones.Scheduling;

/// <summary>
/// One worker thread: waits for the coordinator's go, steps its assigned zones in order, records how long each took
/// and signals done.
/// </summary>
/// <remarks>
/// Thread rules: the coordinator writes the assignment (<see cref="Assign"/>) only while the worker waits; the
/// semaphore release and the countdown signal are the memory barriers between the two.
/// </remarks>
internal sealed class ZoneWorker : IDisposable
{
    private readonly ZoneScheduler _scheduler;
    private readonly ZoneWorld _world;
    private readonly SemaphoreSlim _go = new(0);
    private readonly Thread _thread;
    private readonly int[] _zones;
    private readonly Histogram<double> _tickDuration;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly IZoneStepObserver? _observer;
    private int _count;
    private long _tick;
    private volatile bool _shutdown;

    public ZoneWorker(ZoneScheduler scheduler, ZoneWorld world, int index, Histogram<double> tickDuration, IZoneStepObserver? observer)
    {
        _scheduler = scheduler;
        _world = world;
        Index = index;
        _zones = new int[world.Zones.Length];
        _tickDuration = tickDuration;
        _tag = new KeyValuePair<string, object?>("worker", index);
        _observer = observer;
        _thread = new Thread(Run) { IsBackground = true, Name = $"sol-zone-worker-{index}" };
    }

    public int Index { get; }

    /// <summary>Zones assigned for the coming ticks.</summary>
    public ReadOnlySpan<int> Zones => _zones.AsSpan(0, _count);

    /// <summary>Sum of the measured loads of the assigned zones (Stopwatch ticks), for rebalancing.</summary>
    public double AssignedLoad { get; set; }

    /// <summary>Bytes this thread allocated, read after each tick (the allocation tests look at it).</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>True once the thread pinned itself.</summary>
    public bool Pinned { get; private set; }

    /// <summary>The failure of the last tick, if a step threw.</summary>
    public Exception? Fault { get; set; }

    public void Start() => _thread.Start();

    public void ClearAssignment()
    {
        _count = 0;
        AssignedLoad = 0;
    }

    public void Assign(int zone, double load)
    {
        _zones[_count++] = zone;
        AssignedLoad += load;
    }

    /// <summary>Starts one tick on this worker; the coordinator then waits for the shared countdown.</summary>
    public void Begin(long tick)
    {
        _tick = tick;
        _go.Release();
    }

    public void Dispose()
    {
        _shutdown = true;
        _go.Release();
        if (_thread.IsAlive && Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
        _go.Dispose();
    }

    private void Run()
    {
        if (_scheduler.Options.PinThreads)
        {
            Pinned = ThreadAffinity.TryPinCurrentThread(Index % Environment.ProcessorCount, out var message);
            _scheduler.Options.Log?.Invoke($"zone worker {Index}: {message}");
        }
        var zones = _world.Zones;
        var loads = _scheduler.ZoneLoads;
        while (true)
        {
            _go.Wait();
            if (_shutdown)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                var tick = _tick;
                for (var n = 0; n < _count; n++)
                {
                    var index = _zones[n];
                    var zone = zones[index];
                    var t0 = Stopwatch.GetTimestamp();
                    zone.Step(tick);
                    _observer?.OnZoneStepped(zone);
                    var elapsed = Stopwatch.GetTimestamp() - t0;
                    // Exponential moving average; each zone's entry is written only by the worker that owns it this tick.
                    loads[index] = loads[index] == 0 ? elapsed : (loads[index] * 0.8) + (elapsed * 0.2);
                }
            }
#pragma warning disable CA1031 // any failure of a step is handed to the coordinator, which rethrows it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fault = e;
            }
            _tickDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, _tag);
            AllocatedBytes = GC.GetAllocatedBytesForCurrentThread();
            _scheduler.WorkerDone();
        }
    }
}
