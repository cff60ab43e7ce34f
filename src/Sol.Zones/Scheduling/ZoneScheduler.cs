using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sol.Zones.Simulation;

namespace Sol.Zones.Scheduling;

/// <summary>
/// Steps every awake zone of a <see cref="ZoneWorld"/> once per tick on a fixed set of worker threads. Either in real
/// time (<see cref="Start"/>/<see cref="Stop"/>, at the world's tick rate) or by hand (<see cref="StepOnce"/>,
/// <see cref="RunTicks"/>) for tests and tools.
/// </summary>
/// <remarks>
/// One tick, on the coordinator (the real-time loop thread, or the caller of <see cref="StepOnce"/>):
/// (1) the world applies the server's commands and decides who sleeps; (2) awake zones are assigned to workers
/// (longest measured load first, each to the least loaded worker) when the awake set changed or every
/// <see cref="SchedulerOptions.RebalanceInterval"/> ticks; (3) every worker steps its zones, a zone on exactly one
/// worker; (4) after all are done, the world applies the tick's transfers in zone order; (5) the observer hears
/// <see cref="IZoneStepObserver.OnTickCompleted"/>. Zones never read each other during (3) and (4) runs on one thread
/// in a fixed order, so the result does not depend on how many workers there are or which zone went where.
/// A tick whose work exceeds the tick period is an overrun: counted, and the real-time loop does not try to catch up
/// (it starts the next tick at once and re-bases its clock).
/// </remarks>
public sealed class ZoneScheduler : IDisposable
{
    /// <summary>The meter name used unless <see cref="SchedulerOptions.MeterName"/> says otherwise.</summary>
    public const string DefaultMeterName = "Sol.Zones";

    private readonly ZoneWorld _world;
    private readonly ZoneWorker[] _workers;
    private readonly Meter _meter;
    private readonly Histogram<double> _tickTotal;
    // The coordinator blocks at once instead of spinning (spinCount 0): on a machine with as many workers as cores a
    // spinning coordinator steals a core from a pinned worker (measured: 2 workers ran slower than 1 under
    // BenchmarkDotNet, whose thread runs at high priority). Blocking every time also means the event's lazily created
    // lock object exists after the first tick, so steady-state ticks allocate nothing.
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private int _pending;
    private readonly ManualResetEventSlim _stopSignal = new(false);
    private readonly long _period;
    private readonly int[] _order;
    private readonly double[] _orderKeys;
    private readonly Lock _runLock = new();
    private Thread? _loop;
    private volatile bool _stopRequested;
    private long _lastRebalance;
    private long _overruns;
    private long _ticks;
    private Exception? _loopFault;
    private bool _disposed;

    public ZoneScheduler(ZoneWorld world, SchedulerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(world);
        Options = options ?? new SchedulerOptions();
        if (Options.Workers < 1 || Options.RebalanceInterval < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Workers and RebalanceInterval must be at least 1");
        }
        _world = world;
        _period = Stopwatch.Frequency / world.Options.TickRate;
        ZoneLoads = new double[world.Zones.Length];
        _order = new int[world.Zones.Length];
        _orderKeys = new double[world.Zones.Length];
        _meter = new Meter(Options.MeterName);
        var tickDuration = _meter.CreateHistogram<double>("sol.zones.worker.tick.duration", "ms", "Time one worker spent stepping its zones in one tick");
        // The whole tick, the coordinator's parts included (commands, the awake set, transfers, the observer's pass):
        // what overruns are judged by, and what the workers' histogram cannot see (helper-64).
        _tickTotal = _meter.CreateHistogram<double>("sol.zones.tick.duration", "ms", "Time of one whole tick: the between-ticks work and every worker's steps");
        _meter.CreateObservableCounter("sol.zones.tick.overruns", () => Overruns, "{tick}", "Ticks whose work took longer than the tick period");
        _meter.CreateObservableCounter("sol.zones.ticks", () => TicksRun, "{tick}", "Ticks completed");
        _meter.CreateObservableUpDownCounter("sol.zones.awake", () => _world.AwakeCount, "{zone}", "Zones awake (stepped each tick)");
        _workers = new ZoneWorker[Options.Workers];
        for (var w = 0; w < _workers.Length; w++)
        {
            _workers[w] = new ZoneWorker(this, world, w, tickDuration, Options.Observer);
            _workers[w].Start();
        }
    }

    public SchedulerOptions Options { get; }

    public ZoneWorld World => _world;

    /// <summary>Ticks whose work took longer than one tick period.</summary>
    public long Overruns => Interlocked.Read(ref _overruns);

    /// <summary>Ticks completed by this scheduler.</summary>
    public long TicksRun => Interlocked.Read(ref _ticks);

    /// <summary>True while the real-time loop runs.</summary>
    public bool IsRunning => _loop is not null;

    /// <summary>The fault that stopped the real-time loop, if one did.</summary>
    public Exception? Fault => Volatile.Read(ref _loopFault);

    /// <summary>The meter publishing the per-worker tick-duration histogram and the overrun counter.</summary>
    public Meter Meter => _meter;

    internal double[] ZoneLoads { get; }

    internal ReadOnlySpan<ZoneWorker> Workers => _workers;

    /// <summary>Runs one tick now, on the calling thread as coordinator. Not while the real-time loop runs.</summary>
    public void StepOnce()
    {
        lock (_runLock)
        {
            if (_loop is not null)
            {
                ThrowHelper.ThrowInvalidOperation("the real-time loop is running; stop it before stepping by hand");
            }
            ObjectDisposedException.ThrowIf(_disposed, this);
            RunTick();
        }
    }

    /// <summary>Runs <paramref name="ticks"/> ticks back to back (no waiting between them).</summary>
    public void RunTicks(int ticks)
    {
        for (var i = 0; i < ticks; i++)
        {
            StepOnce();
        }
    }

    /// <summary>Starts the real-time loop on its own thread: one tick every <c>1 / TickRate</c> seconds.</summary>
    public void Start()
    {
        lock (_runLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_loop is not null)
            {
                return;
            }
            _stopRequested = false;
            _stopSignal.Reset();
            _loop = new Thread(Loop) { IsBackground = true, Name = "sol-zone-clock", Priority = ThreadPriority.AboveNormal };
            _loop.Start();
        }
    }

    /// <summary>Stops the real-time loop after the tick in progress; returns when it has stopped.</summary>
    public void Stop()
    {
        Thread? loop;
        lock (_runLock)
        {
            loop = _loop;
            if (loop is null)
            {
                return;
            }
            _stopRequested = true;
            _stopSignal.Set();
        }
        loop.Join();
        lock (_runLock)
        {
            _loop = null;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        Stop();
        lock (_runLock)
        {
            _disposed = true;
            foreach (var worker in _workers)
            {
                worker.Dispose();
            }
            _done.Dispose();
            _stopSignal.Dispose();
            _meter.Dispose();
        }
    }

    /// <summary>The worker a zone is assigned to, or -1 when it is asleep (for tests).</summary>
    internal int WorkerOf(int zoneIndex)
    {
        foreach (var worker in _workers)
        {
            if (worker.Zones.Contains(zoneIndex))
            {
                return worker.Index;
            }
        }
        return -1;
    }

    internal void WorkerDone()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _done.Set();
        }
    }

    private void RunTick()
    {
        var started = Stopwatch.GetTimestamp();
        var tick = _world.Tick + 1;
        var awakeChanged = _world.PrepareTick(tick);
        if (awakeChanged || tick - _lastRebalance >= Options.RebalanceInterval)
        {
            Rebalance();
            _lastRebalance = tick;
        }

        var busy = 0;
        foreach (var worker in _workers)
        {
            busy += worker.Zones.Length > 0 ? 1 : 0;
        }
        if (busy > 0)
        {
            _done.Reset();
            Volatile.Write(ref _pending, busy);
            foreach (var worker in _workers)
            {
                if (worker.Zones.Length > 0)
                {
                    worker.Begin(tick);
                }
            }
            _done.Wait();
            foreach (var worker in _workers)
            {
                if (worker.Fault is { } fault)
                {
                    worker.Fault = null;
                    throw new InvalidOperationException($"a zone step failed on worker {worker.Index} at tick {tick}", fault);
                }
            }
        }

        _world.ApplyTransfers(tick);
        _world.Tick = tick;
        Interlocked.Increment(ref _ticks);
        Options.Observer?.OnTickCompleted(tick);
        var elapsed = Stopwatch.GetTimestamp() - started;
        _tickTotal.Record(elapsed * 1000.0 / Stopwatch.Frequency);
        if (elapsed > _period)
        {
            Interlocked.Increment(ref _overruns);
        }
    }

    /// <summary>Longest-processing-time-first: heaviest awake zone to the least loaded worker, and so on.</summary>
    private void Rebalance()
    {
        var awake = _world.AwakeZones;
        var zones = _world.Zones;
        for (var n = 0; n < awake.Length; n++)
        {
            var index = awake[n];
            _order[n] = index;
            // Never measured yet: estimate from the entity count (about 50 ns each) so new zones spread out.
            var load = ZoneLoads[index] > 0 ? ZoneLoads[index] : zones[index].EntityCount * 50e-9 * Stopwatch.Frequency;
            _orderKeys[n] = -load;
        }
        Array.Sort(_orderKeys, _order, 0, awake.Length);
        foreach (var worker in _workers)
        {
            worker.ClearAssignment();
        }
        for (var n = 0; n < awake.Length; n++)
        {
            var least = _workers[0];
            for (var w = 1; w < _workers.Length; w++)
            {
                if (_workers[w].AssignedLoad < least.AssignedLoad)
                {
                    least = _workers[w];
                }
            }
            least.Assign(_order[n], -_orderKeys[n]);
        }
    }

    private void Loop()
    {
        try
        {
            var next = Stopwatch.GetTimestamp();
            while (!_stopRequested)
            {
                RunTick();
                next += _period;
                var now = Stopwatch.GetTimestamp();
                if (now >= next)
                {
                    // Behind: start the next tick at once and re-base the clock rather than bursting to catch up.
                    next = now;
                    continue;
                }
                var waitMs = (int)((next - now) * 1000 / Stopwatch.Frequency) - 1;
                if (waitMs > 0 && _stopSignal.Wait(waitMs))
                {
                    break;
                }
                var spinner = default(SpinWait);
                while (Stopwatch.GetTimestamp() < next && !_stopRequested)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }
        }
#pragma warning disable CA1031 // the loop thread must not die silently: the fault is kept, logged and visible.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Volatile.Write(ref _loopFault, e);
            Options.Log?.Invoke($"zone scheduler stopped: {e}");
            try
            {
                Options.Faulted?.Invoke(e);
            }
#pragma warning disable CA1031 // a throwing handler must not take the process down from a background thread
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
