using BenchmarkDotNet.Attributes;
using Sol.Core.Galaxy;
using Sol.Zones.Simulation;

namespace Sol.Bench.Zones;

/// <summary>
/// The between-ticks pass after a ship entered or left a zone (a join, a leave, a jump, a landing, a take-off), in
/// galaxies of generated size: 100 player ships in four systems, and one ship removed and spawned again by turns, then
/// <c>PrepareTick</c>. Beside it, in the same run, the same change followed by the walk over every zone that
/// <c>PrepareTick</c> did before (helper-64 measured 16 ms of it at 100,000 systems, on every tick a ship moved).
/// </summary>
[MemoryDiagnoser]
public class MembershipBenchmarks
{
    private ZoneWorld _world = null!;
    private int[] _awake = [];
    private long _tick;
    private bool _present = true;

    [Params(2_000, 20_000, 100_000)]
    public int Systems { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _world = new ZoneWorld(GalaxyGenerator.Generate("bench", GalaxyParameters.Default(Systems, 42)), new ZoneOptions { NpcsPerSystem = 0 });
        _awake = new int[_world.Zones.Length];
        for (var owner = 1; owner <= 100; owner++)
        {
            _world.SpawnShip(owner, ZoneId.ForSystem(1 + (owner % 4)), 0, 20_000, 0);
        }
        _world.PrepareTick(_tick++);
    }

    [Benchmark(Description = "a ship moved, then PrepareTick (zones touched + awake)")]
    public bool Touched()
    {
        Move();
        return _world.PrepareTick(_tick++);
    }

    [Benchmark(Baseline = true, Description = "a ship moved, then PrepareTick and the walk over every zone it did before")]
    public int WalkEveryZone()
    {
        Move();
        _world.PrepareTick(_tick++);
        var count = 0;
        foreach (var zone in _world.Zones)
        {
            if (zone.PlayerShipCount > 0)
            {
                _awake[count++] = zone.Index;
            }
        }
        return count;
    }

    private void Move()
    {
        if (_present)
        {
            _world.RemoveShip(1);
        }
        else
        {
            _world.SpawnShip(1, ZoneId.ForSystem(2), 0, 20_000, 0);
        }
        _present = !_present;
    }
}
