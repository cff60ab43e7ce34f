using BenchmarkDotNet.Attributes;
using Sol.Core.Galaxy;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Bench.Zones;

/// <summary>
/// Zones stepped per second with 1 and 2 workers: one tick of 256 awake systems (one player and 200 NPCs each) per
/// operation; zones per second = 256 / mean. Beside it, a control: the same amount of pure arithmetic split over the
/// same number of threads, which shows how much parallel speed-up the machine actually offers during the run (other
/// processes share its cores).
/// </summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    public const int Zones = 256;
    private const int ControlWork = 4_000_000;
    private ZoneScheduler _scheduler = null!;
    private Thread[] _controlThreads = [];
    private double _sink;

    [Params(1, 2)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var world = new ZoneWorld(BenchGalaxy.Ring(Zones), new ZoneOptions { NpcsPerSystem = 200 });
        _scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = Workers, PinThreads = true });
        for (var s = 1; s <= Zones; s++)
        {
            world.SpawnShip(s, ZoneId.ForSystem(s), 0, 0, 5_000);
        }
        _scheduler.RunTicks(50);
        // What the benchmark process may run on, for the results file (BenchmarkDotNet may restrict it).
        Console.WriteLine($"// zones-bench: process affinity mask {ThreadAffinity.CurrentMask()}, priority {System.Diagnostics.Process.GetCurrentProcess().PriorityClass}");
    }

    [GlobalCleanup]
    public void Cleanup() => _scheduler.Dispose();

    [Benchmark(Description = "one tick of 256 zones")]
    public void Tick() => _scheduler.StepOnce();

    [Benchmark(Description = "control: fixed arithmetic split over the threads")]
    public double Control()
    {
        if (Workers == 1)
        {
            return Spin(ControlWork);
        }
        if (_controlThreads.Length != Workers)
        {
            _controlThreads = new Thread[Workers];
        }
        var share = ControlWork / Workers;
        for (var t = 0; t < Workers; t++)
        {
            _controlThreads[t] = new Thread(() => _sink += Spin(share));
            _controlThreads[t].Start();
        }
        foreach (var thread in _controlThreads)
        {
            thread.Join();
        }
        return _sink;
    }

    private static double Spin(int iterations)
    {
        var x = 1.0;
        for (var i = 0; i < iterations; i++)
        {
            x = (x * 1.0000001) + 1e-9;
        }
        return x;
    }
}
