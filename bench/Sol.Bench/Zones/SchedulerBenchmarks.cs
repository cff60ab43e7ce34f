using BenchmarkDotNet.Attributes;
using Sol.Core.Galaxy;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Bench.Zones;

/// <summary>
/// Zones stepped per second with 1 and 2 workers: one tick of 128 awake systems (one player and 200 NPCs each) per
/// operation. Zones per second = 128 / mean.
/// </summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    public const int Zones = 128;
    private ZoneScheduler _scheduler = null!;

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
    }

    [GlobalCleanup]
    public void Cleanup() => _scheduler.Dispose();

    [Benchmark(Description = "one tick of 128 zones")]
    public void Tick() => _scheduler.StepOnce();
}
