using Sol.Zones.Simulation;

namespace Sol.Zones.Tests;

public class DeterminismTests
{
    // Wide gate and landing reach: most requests are accepted, so ships keep moving between zones.
    private static readonly ZoneOptions s_options = new() { NpcsPerSystem = 4, GateRadius = 20_000, LandingMargin = 20_000, Seed = 99 };

    private static (ulong Hash, long Transfers) Run(int workers, ulong seed, int ticks = 150, int changeAtTick = -1)
    {
        using var sim = new Sim(TestGalaxy.Ring(6, planets: 2), s_options, workers);
        var scenario = new Scenario(sim.World, ships: 300, seed);
        for (var tick = 0; tick < ticks; tick++)
        {
            scenario.PostInputs();
            if (tick == changeAtTick)
            {
                sim.World.PostInput(Input.InputCommand.Steer(1, 1_000_000, 1f, 1f)); // newer than any of the scenario's
            }
            sim.Step();
        }
        return (sim.World.ComputeStateHash(), sim.World.TransfersApplied);
    }

    [Fact]
    public void SameInputsGiveBitIdenticalStateWithOneTwoAndFourWorkers()
    {
        var one = Run(1, seed: 7);
        var two = Run(2, seed: 7);
        var four = Run(4, seed: 7);

        Assert.True(one.Transfers > 100, $"the scenario must move ships between zones (moved {one.Transfers})");
        Assert.Equal(one, two);
        Assert.Equal(one, four);
    }

    [Fact]
    public void TheStateHashSeesASingleDifferentInput()
    {
        var baseline = Run(2, seed: 7, ticks: 40);
        var changed = Run(2, seed: 7, ticks: 40, changeAtTick: 20);
        Assert.NotEqual(baseline.Hash, changed.Hash);
    }

    [Fact]
    public void NpcPatrolsAreTheSameForTheSameSeedAndDifferForAnother()
    {
        static ulong Npcs(ulong seed)
        {
            using var sim = new Sim(TestGalaxy.Ring(2, planets: 1), new ZoneOptions { NpcsPerSystem = 5, Seed = seed });
            sim.World.SpawnShip(1, Core.Galaxy.ZoneId.ForSystem(1), 0, 0, 7_000);
            sim.Step(100);
            return sim.System(1).ComputeStateHash();
        }
        Assert.Equal(Npcs(3), Npcs(3));
        Assert.NotEqual(Npcs(3), Npcs(4));
    }
}
