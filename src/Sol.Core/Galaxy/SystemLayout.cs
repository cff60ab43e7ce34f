using Sol.Core.Mathematics;

namespace Sol.Core.Galaxy;

/// <summary>
/// Stage 3 of generation: inside each system (system units, origin at the barycentre) place the stars, the planets'
/// orbits and the gates.
/// </summary>
/// <remarks>
/// Rules the tests check: stars sit at the centre (one) or on a small ring (several); the first orbit clears every
/// star's damage radius; consecutive orbits are separated by more than the two planets' radii; gates stand on a ring
/// beyond the outermost orbit (so outside every damage radius and every orbit), each at the bearing of the system it
/// leads to on the galaxy map, pushed outwards when two bearings are close. Each system draws from its own random
/// stream, so one system's layout does not depend on any other's.
/// </remarks>
internal static class SystemLayout
{
    public const double OrbitClearance = 900;
    public const double GateClearance = 1500;
    public const double GateSpacing = 700;
    private const ulong StreamBase = 0x5000_0000;

    private static readonly string[] s_numerals = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"];

    public static GalaxyModel Build(string name, GalaxyParameters parameters, GalaxyMap map, GateGraph graph)
    {
        var count = parameters.Zones;
        var systems = new StarSystem[count];
        var stars = new List<Star>(count * ((parameters.Stars.Min + parameters.Stars.Max + 1) / 2));
        var planets = new List<Planet>(count * ((parameters.Planets.Min + parameters.Planets.Max + 1) / 2));

        // Gate ids: system by system, each system's gates ordered by target id; the partner is found the same way.
        var gateStart = new int[count + 1];
        var sortedTargets = new int[count][];
        for (var s = 0; s < count; s++)
        {
            var targets = graph.NeighboursOf(s).ToArray();
            Array.Sort(targets);
            sortedTargets[s] = targets;
            gateStart[s + 1] = gateStart[s] + targets.Length;
        }
        var gates = new Gate[gateStart[count]];

        Span<double> gateAngles = stackalloc double[GalaxyLimits.MaxGatesPerSystem];
        for (var s = 0; s < count; s++)
        {
            var systemId = s + 1;
            var random = DeterministicRandom.ForStream(parameters.Seed, StreamBase + (ulong)systemId);
            systems[s] = new StarSystem(systemId, map.Names[s], map.X[s], map.Y[s]);

            // Stars.
            var starCount = random.NextInt(parameters.Stars.Min, parameters.Stars.Max);
            var starRing = starCount == 1 ? 0 : random.NextDouble(900, 1400);
            var starRotation = random.NextDouble(0, 2 * Math.PI);
            var extent = 0.0;
            for (var k = 0; k < starCount; k++)
            {
                var radius = random.NextDouble(120, 320);
                var damage = radius * random.NextDouble(2.2, 3.2);
                var mass = radius * radius * random.NextDouble(300, 500);
                var (sin, cos) = Math.SinCos(starRotation + (2 * Math.PI * k / starCount));
                // + 0.0 turns the -0 of a centred star into +0, which every store keeps as it is.
                stars.Add(new Star(stars.Count + 1, systemId, (starRing * cos) + 0.0, (starRing * sin) + 0.0, radius, mass, damage));
                extent = Math.Max(extent, starRing + damage);
            }

            // Planets, innermost first.
            var planetCount = random.NextInt(parameters.Planets.Min, parameters.Planets.Max);
            var edge = extent + OrbitClearance;
            for (var k = 0; k < planetCount; k++)
            {
                var radius = random.NextDouble(50, 200);
                var orbit = edge + radius;
                var period = 90.0 * Math.Pow(orbit / 1000.0, 1.5);
                var phase = random.NextDouble(0, 2 * Math.PI);
                planets.Add(new Planet(planets.Count + 1, systemId, $"{map.Names[s]} {s_numerals[k]}", radius, orbit, period, phase));
                edge = orbit + radius + random.NextDouble(700, 1800);
            }

            // Gates, on a ring past everything, at the bearing of their target.
            var ring = edge + GateClearance;
            var targets = sortedTargets[s];
            for (var j = 0; j < targets.Length; j++)
            {
                var t = targets[j];
                gateAngles[j] = Math.Atan2(map.Y[t] - map.Y[s], map.X[t] - map.X[s]);
                var crowding = 0;
                for (var i = 0; i < j; i++)
                {
                    if (AngleBetween(gateAngles[i], gateAngles[j]) < 0.35)
                    {
                        crowding++;
                    }
                }
                var r = ring + (crowding * GateSpacing);
                var (sin, cos) = Math.SinCos(gateAngles[j]);
                var partnerIndex = Array.BinarySearch(sortedTargets[t], s);
                gates[gateStart[s] + j] = new Gate(gateStart[s] + j + 1, systemId, r * cos, r * sin, t + 1, gateStart[t] + partnerIndex + 1);
            }
        }
        return new GalaxyModel(name, parameters, systems, [.. stars], [.. planets], gates);
    }

    private static double AngleBetween(double a, double b)
    {
        var d = Math.Abs(a - b) % (2 * Math.PI);
        return d > Math.PI ? (2 * Math.PI) - d : d;
    }
}
