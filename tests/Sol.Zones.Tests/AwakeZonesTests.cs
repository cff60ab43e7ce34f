using Sol.Core.Galaxy;
using Sol.Core.Mathematics;

namespace Sol.Zones.Tests;

/// <summary>
/// The awake zones are kept from the zones ships entered or left since the last tick, not by walking every zone
/// (helper-64: 16 ms a tick at 100,000 systems whenever a ship moved). They must be exactly what a walk would find.
/// </summary>
public class AwakeZonesTests
{
    [Fact]
    public void TheAwakeZonesAreExactlyThoseWithPlayerShipsThroughSpawnsRemovalsJumpsLandingsAndTakeOffs()
    {
        var galaxy = GalaxyGenerator.Generate("awake", GalaxyParameters.Default(20, 5));
        using var sim = new Sim(galaxy, Sim.Quiet());
        var world = sim.World;
        var random = DeterministicRandom.ForStream(5, 1);
        var changes = 0;
        for (var tick = 0; tick < 600; tick++)
        {
            var owner = random.NextInt(1, 40);
            switch (random.NextInt(0, 4))
            {
                case 0:
                    var gate = galaxy.Gates[random.NextInt(0, galaxy.Gates.Length - 1)];
                    changes += world.SpawnShip(owner, ZoneId.ForSystem(gate.SystemId), 0, gate.X, gate.Y) ? 1 : 0;
                    break;
                case 1:
                    changes += world.RemoveShip(owner) ? 1 : 0;
                    break;
                case 2 when world.TryGetZoneOf(owner, out var zone) && zone.Kind == ZoneKind.System:
                    // Through the gate it stands at (spawned there; some have drifted out of reach and are refused).
                    foreach (var g in galaxy.GatesOf(zone.Id))
                    {
                        world.RequestJump(owner, (uint)tick + 1, g.Id);
                    }
                    break;
                case 3 when world.TryGetZoneOf(owner, out var zone) && zone.Kind == ZoneKind.System:
                    foreach (var p in galaxy.PlanetsOf(zone.Id))
                    {
                        world.RequestLand(owner, (uint)tick + 1, p.Id);
                    }
                    break;
                case 4 when world.TryGetZoneOf(owner, out var zone) && zone.Kind == ZoneKind.Planet:
                    world.RequestTakeOff(owner, (uint)tick + 1);
                    break;
            }
            sim.Step();
            // As the next tick begins (the step's transfers were applied after it; the commands queued since apply now).
            world.PrepareTick(world.Tick + 1);

            var expected = new List<int>();
            foreach (var zone in world.Zones)
            {
                if (zone.PlayerShipCount > 0)
                {
                    expected.Add(zone.Index);
                }
                Assert.Equal(zone.PlayerShipCount > 0, zone.IsAwake);
            }
            Assert.Equal(expected, world.AwakeZones.ToArray());
        }
        Assert.True(changes > 100, $"only {changes} spawns and removals");
        Assert.True(world.TransfersApplied > 10, $"only {world.TransfersApplied} transfers");
    }
}
