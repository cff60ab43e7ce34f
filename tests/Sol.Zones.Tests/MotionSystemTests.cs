using Sol.Core.Galaxy;
using Sol.Core.Mathematics;
using Sol.Zones.Input;
using Sol.Zones.Simulation;

namespace Sol.Zones.Tests;

public class MotionSystemTests
{
    [Fact]
    public void TheVectorStepGivesTheSameBitsAsTheScalarSystems()
    {
        // Two ship classes mixed within groups of four and eight, NPCs, statics interleaved with ships, ships inside the damage
        // radius (destroyed and respawned), odd counts so the scalar tail runs too.
        var options = new ZoneOptions
        {
            NpcsPerSystem = 9,
            StarDamagePerSecond = 400,
            ShipClasses = [new ShipClass("a", 300, 150, 3f, 100f), new ShipClass("b", 120, 400, 1.5f, 60f)],
        };
        ulong Run(bool scalar, bool narrow)
        {
            var world = new ZoneWorld(TestGalaxy.Ring(2, planets: 3, starMass: 5e6, damageRadius: 900), options);
            var zone = world.GetZone(ZoneId.ForSystem(1));
            zone.ScalarMotion = scalar;
            zone.NarrowMotion = narrow;
            var random = new DeterministicRandom(3);
            for (var owner = 1; owner <= 203; owner++)
            {
                world.SpawnShip(owner, ZoneId.ForSystem(1), owner % 3 == 0 ? 1 : 0, random.NextDouble(-3_000, 3_000), random.NextDouble(-3_000, 3_000));
            }
            world.SpawnColony(9, 1, 0, 0);
            world.PrepareTick(0);
            for (var tick = 0; tick < 300; tick++)
            {
                for (var owner = 1 + (tick % 5); owner <= 203; owner += 5)
                {
                    world.PostInput(InputCommand.Steer(owner, (uint)tick + 1, (float)random.NextDouble(-1.5, 1.5), (float)random.NextDouble(-1.5, 1.5)));
                }
                zone.Step(tick);
            }
            return zone.ComputeStateHash();
        }

        // Scalar reference, four entities at a time, and eight at a time where the machine has AVX-512.
        var reference = Run(scalar: true, narrow: false);
        Assert.Equal(reference, Run(scalar: false, narrow: true));
        Assert.Equal(reference, Run(scalar: false, narrow: false));
    }

    [Fact]
    public void PolynomialSineAndCosineStayWithinSixHundredthsOfAMillionth()
    {
        for (var k = -10_000; k <= 10_000; k++)
        {
            var x = k * Math.PI / 10_000;
            var (sin, cos) = Trig.SinCos(x);
            Assert.True(Math.Abs(sin - Math.Sin(x)) < 6e-8, $"sin({x})");
            Assert.True(Math.Abs(cos - Math.Cos(x)) < 6e-8, $"cos({x})");
        }
    }
}
