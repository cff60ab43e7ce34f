using Sol.Core.Galaxy;
using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Zones.Tests;

public class SnapshotAndNpcTests
{
    [Fact]
    public void AColonyFoundedOnAPlanetNobodyIsOnIsNoEventForWhoeverLandsLater()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Sim.Quiet());
        var planetId = TestGalaxy.PlanetOf(1, 0);
        sim.World.SpawnShip(5, ZoneId.ForPlanet(planetId), 0, 0, 0);
        sim.Step();
        // The founder leaves while its transaction is in flight, and the surface goes to sleep.
        sim.World.RemoveShip(5);
        sim.Step(2);
        Assert.False(sim.Surface(planetId).IsAwake);

        // Before: the event waited in the sleeping zone and came in the first snapshot of whoever landed next (helper-49).
        Assert.True(sim.World.SpawnColony(5, planetId, 0, 0));
        sim.Step(200);
        sim.World.SpawnShip(7, ZoneId.ForPlanet(planetId), 0, 10, 0);
        sim.Step();
        Assert.DoesNotContain(sim.Events(sim.Surface(planetId)), e => e.Kind == ZoneEventKind.Colonized);
    }

    [Fact]
    public void AColonyFoundedIsAnEventNamingThePlanetAndTheFoundersShip()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Sim.Quiet());
        var planetId = TestGalaxy.PlanetOf(1, 0);
        sim.World.SpawnShip(5, ZoneId.ForPlanet(planetId), 0, 0, 0);
        sim.Step();
        Assert.True(sim.Surface(planetId).TryGetShip(5, out var ship));

        // Before: the protocol's Colonized event was never sent.
        Assert.True(sim.World.SpawnColony(5, planetId, 10, 0));
        sim.Step();
        var colonized = Assert.Single(sim.Events(sim.Surface(planetId)), e => e.Kind == ZoneEventKind.Colonized);
        Assert.Equal((5L, planetId, ship.Handle), (colonized.Owner, colonized.Target, colonized.Entity));
    }

    [Fact]
    public void ASnapshotIsTheLastStepsRowsWhateverArrivedOrWasMadeSince()
    {
        using var sim = new Sim(TestGalaxy.Ring(3), Sim.Quiet());
        sim.Step();
        // A zone that never stepped (asleep): its snapshot is empty, not an exception.
        var asleep = sim.System(3).GetSnapshot();
        Assert.Equal(-1, asleep.Tick);
        Assert.Equal(0, asleep.Entities.Length);

        // 160 ships arrive in system 2 between two of its steps: the snapshot stays the last step's until it steps
        // again (before: it was cut to the zone's new row count, past the rows written: ArgumentOutOfRangeException).
        sim.World.SpawnShip(1, ZoneId.ForSystem(2), 0, 0, 3_000);
        for (var owner = 40; owner < 200; owner++)
        {
            Assert.True(sim.World.SpawnShip(owner, ZoneId.ForSystem(1), 0, TestGalaxy.GateDistance - 10, 0));
        }
        sim.Step();
        var before = sim.System(2).GetSnapshot().Entities.Length;
        for (var owner = 40; owner < 200; owner++)
        {
            sim.World.RequestJump(owner, 1, TestGalaxy.GateToNext(1));
        }
        sim.Step();
        var zone = sim.System(2);
        Assert.Equal(before, zone.GetSnapshot().Entities.Length);
        Assert.Equal(before + 160, zone.EntityCount);
        sim.Step();
        Assert.Equal(zone.EntityCount, zone.GetSnapshot().Entities.Length);
    }

    [Fact]
    public void ASystemZoneHoldsItsStarsPlanetsGatesAndTheConfiguredNpcs()
    {
        using var sim = new Sim(TestGalaxy.Ring(3, planets: 2), new ZoneOptions { NpcsPerSystem = 7 });
        var zone = sim.System(2);
        sim.World.SpawnShip(1, ZoneId.ForSystem(2), 0, 0, 5_000);
        sim.Step();
        var counts = new int[7];
        foreach (var e in zone.GetSnapshot().Entities)
        {
            counts[(int)e.Kind]++;
        }
        Assert.Equal(1, counts[(int)EntityKind.Star]);
        Assert.Equal(2, counts[(int)EntityKind.Planet]);
        Assert.Equal(2, counts[(int)EntityKind.Gate]);
        Assert.Equal(7, counts[(int)EntityKind.Npc]);
        Assert.Equal(1, counts[(int)EntityKind.Ship]);
        // Planet surfaces have no NPCs.
        Assert.Equal(0, sim.Surface(1).EntityCount);
    }

    [Fact]
    public void NpcsPatrolAndKeepMoving()
    {
        using var sim = new Sim(TestGalaxy.Ring(1, planets: 2), new ZoneOptions { NpcsPerSystem = 4 });
        sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 7_000);
        sim.Step();
        var first = Npcs(sim.System(1));
        sim.Step(100);
        var later = Npcs(sim.System(1));
        Assert.Equal(4, first.Count);
        for (var k = 0; k < first.Count; k++)
        {
            var moved = Math.Sqrt(Math.Pow(later[k].X - first[k].X, 2) + Math.Pow(later[k].Y - first[k].Y, 2));
            Assert.True(moved > 100, $"NPC {k} moved only {moved}");
            Assert.True(later[k].InputSeq == 0 && later[k].Owner == 0);
        }
    }

    [Fact]
    public void TheSnapshotCarriesTickTimeAndEveryEntityAsTheColumnsHoldIt()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), new ZoneOptions { NpcsPerSystem = 2 });
        sim.World.SpawnShip(9, ZoneId.ForSystem(1), 0, 100, 5_000);
        sim.World.PostInput(Input.InputCommand.Steer(9, 3, 1f, 0.5f));
        sim.Step(4);
        var zone = sim.System(1);
        var snapshot = zone.GetSnapshot();
        Assert.Equal(3, snapshot.Tick);
        Assert.Equal(3 / 20.0, snapshot.Time);
        Assert.Equal(ZoneId.ForSystem(1), snapshot.Zone);
        Assert.Equal(zone.EntityCount, snapshot.Entities.Length);
        foreach (var e in snapshot.Entities)
        {
            Assert.True(zone.TryGetEntity(e.Handle, out var live));
            Assert.Equal(live, e);
        }
        Assert.True(zone.TryGetShip(9, out var ship));
        Assert.Equal(3u, ship.InputSeq);
        Assert.Equal(EntityKind.Ship, ship.Kind);
    }

    [Fact]
    public void RightAfterEveryStepTheSnapshotMatchesTheColumnsRowForRow()
    {
        // A busy scripted game: jumps, landings, take-offs (Departing flags), ships burning in stars (respawns), NPCs.
        var options = new ZoneOptions { NpcsPerSystem = 6, GateRadius = 20_000, LandingMargin = 20_000, StarDamagePerSecond = 2_000 };
        var checker = new SnapshotChecker();
        using var sim = new Sim(TestGalaxy.Ring(4, planets: 2, damageRadius: 2_500), options, workers: 2, checker);
        var scenario = new Scenario(sim.World, ships: 200, seed: 21);
        for (var tick = 0; tick < 120; tick++)
        {
            scenario.PostInputs(requestChance: 0.05);
            sim.Step();
        }
        Assert.Null(checker.Failure);
        Assert.True(checker.Departing > 50, $"departing rows seen: {checker.Departing}");
        Assert.True(checker.Respawned > 10, $"respawned rows seen: {checker.Respawned}");
    }

    [Fact]
    public void SpawnEventsAppearInTheFirstSnapshotAfterTheSpawn()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Sim.Quiet());
        sim.World.SpawnShip(9, ZoneId.ForSystem(1), 0, 100, 5_000);
        sim.Step();
        var spawned = Assert.Single(sim.Events(sim.System(1)));
        Assert.Equal(ZoneEventKind.Spawned, spawned.Kind);
        Assert.Equal(9, spawned.Owner);
        sim.Step();
        Assert.Empty(sim.Events(sim.System(1)));
    }

    [Fact]
    public void ColoniesLiveOnPlanetSurfaces()
    {
        using var sim = new Sim(TestGalaxy.Ring(1, planets: 1), Sim.Quiet());
        Assert.True(sim.World.SpawnColony(4, 1, 12, 34));
        Assert.False(sim.World.SpawnColony(4, 2, 0, 0));
        sim.World.SpawnShip(4, ZoneId.ForPlanet(1), 0, 0, 0);
        sim.Step();
        var colony = Assert.Single(sim.Surface(1).GetSnapshot().Entities.ToArray(), e => e.Kind == EntityKind.Colony);
        Assert.Equal(4, colony.Owner);
        Assert.Equal(12, colony.X);
        Assert.Equal(34, colony.Y);
    }

    private sealed class SnapshotChecker : Scheduling.IZoneStepObserver
    {
        private int _departing;
        private int _respawned;

        public string? Failure { get; private set; }

        public int Departing => _departing;

        public int Respawned => _respawned;

        public void OnZoneStepped(Zone zone)
        {
            var snapshot = zone.GetSnapshot();
            if (snapshot.Entities.Length != zone.EntityCount)
            {
                Failure ??= $"{zone.Id}: {snapshot.Entities.Length} rows for {zone.EntityCount} entities";
            }
            foreach (var row in snapshot.Entities)
            {
                if (!zone.TryGetEntity(row.Handle, out var live))
                {
                    Failure ??= $"{zone.Id} tick {snapshot.Tick}: row {row.Handle} is no entity";
                    continue;
                }
                // The one difference allowed: the Respawned flag is already cleared in the columns.
                if (live != row with { Flags = row.Flags & ~EntityFlags.Respawned })
                {
                    Failure ??= $"{zone.Id} tick {snapshot.Tick}: row {row} but columns {live}";
                }
                if ((row.Flags & EntityFlags.Departing) != 0)
                {
                    Interlocked.Increment(ref _departing);
                }
                if ((row.Flags & EntityFlags.Respawned) != 0)
                {
                    Interlocked.Increment(ref _respawned);
                }
            }
        }

        public void OnTickCompleted(long tick)
        {
        }
    }

    private static List<EntityState> Npcs(Zone zone)
    {
        var list = new List<EntityState>();
        foreach (var e in zone.GetSnapshot().Entities)
        {
            if (e.Kind == EntityKind.Npc)
            {
                list.Add(e);
            }
        }
        list.Sort((a, b) => a.Ref.CompareTo(b.Ref));
        return list;
    }
}
