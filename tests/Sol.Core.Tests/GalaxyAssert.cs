using Sol.Core.Galaxy;

namespace Sol.Core.Tests;

/// <summary>The generator's promises, checked on a finished galaxy.</summary>
internal static class GalaxyAssert
{
    public static void GateGraphIsValid(GalaxyModel galaxy, IntRange degree)
    {
        var links = new HashSet<(int, int)>();
        foreach (var system in galaxy.Systems)
        {
            var gates = galaxy.GatesOf(system.Id);
            Assert.InRange(gates.Length, degree.Min, degree.Max);
            foreach (var gate in gates)
            {
                Assert.Equal(system.Id, gate.SystemId);
                Assert.NotEqual(system.Id, gate.TargetSystemId);
                Assert.True(links.Add((system.Id, gate.TargetSystemId)), $"two gates from {system.Id} to {gate.TargetSystemId}");
                var partner = galaxy.Gate(gate.PartnerGateId);
                Assert.Equal(gate.TargetSystemId, partner.SystemId);
                Assert.Equal(system.Id, partner.TargetSystemId);
                Assert.Equal(gate.Id, partner.PartnerGateId);
            }
        }
        Assert.True(GalaxyStatistics.Compute(galaxy).Connected || galaxy.Systems.Length == 1, "gate graph is not connected");
    }

    public static void BodiesDoNotOverlap(GalaxyModel galaxy)
    {
        foreach (var system in galaxy.Systems)
        {
            var stars = galaxy.StarsOf(system.Id);
            var planets = galaxy.PlanetsOf(system.Id);
            var reach = 0.0;
            foreach (var star in stars)
            {
                reach = Math.Max(reach, Math.Sqrt((star.X * star.X) + (star.Y * star.Y)) + star.DamageRadius);
            }
            var previousOuter = reach;
            foreach (var planet in planets)
            {
                // Each orbit's band (orbit ± planet radius) lies outside every star's damage radius and the previous band.
                Assert.True(planet.OrbitRadius - planet.Radius > previousOuter, $"planet {planet.Id} overlaps what lies inside it");
                previousOuter = planet.OrbitRadius + planet.Radius;
            }
            foreach (var gate in galaxy.GatesOf(system.Id))
            {
                var r = Math.Sqrt((gate.X * gate.X) + (gate.Y * gate.Y));
                Assert.True(r > previousOuter, $"gate {gate.Id} inside an orbit");
                foreach (var star in stars)
                {
                    var dx = gate.X - star.X;
                    var dy = gate.Y - star.Y;
                    Assert.True(Math.Sqrt((dx * dx) + (dy * dy)) > star.DamageRadius, $"gate {gate.Id} inside star {star.Id}'s damage radius");
                }
            }
        }
    }
}
