using Sol.Core.Galaxy;

namespace Sol.Zones.Tests;

/// <summary>
/// Small hand-built galaxies (the generator is another issue's): N systems in a ring, each with
/// one star at the centre, <c>planets</c> planets on circular orbits and a gate at (+GateDistance, 0) to the next system
/// and one at (-GateDistance, 0) to the previous.
/// </summary>
internal static class TestGalaxy
{
    public const double GateDistance = 8_000;
    public const double PlanetOrbit = 2_000;
    public const double PlanetRadius = 100;
    public const double StarRadius = 50;

    public static GalaxyModel Ring(int systems, int planets = 2, double starMass = 1e6, double damageRadius = 300)
    {
        var systemArray = new StarSystem[systems];
        var stars = new Star[systems];
        var planetArray = new Planet[systems * planets];
        var gates = systems > 1 ? new Gate[systems * 2] : [];
        for (var s = 1; s <= systems; s++)
        {
            systemArray[s - 1] = new StarSystem(s, $"S{s}", s * 10, 0);
            stars[s - 1] = new Star(s, s, 0, 0, StarRadius, starMass, damageRadius);
            for (var k = 0; k < planets; k++)
            {
                var id = ((s - 1) * planets) + k + 1;
                planetArray[id - 1] = new Planet(id, s, $"P{id}", PlanetRadius, PlanetOrbit * (k + 1), 60 * (k + 1), 0.5 + k);
            }
            if (systems > 1)
            {
                var next = (s % systems) + 1;
                var previous = ((s + systems - 2) % systems) + 1;
                gates[(2 * s) - 2] = new Gate((2 * s) - 1, s, GateDistance, 0, next, 2 * next);
                gates[(2 * s) - 1] = new Gate(2 * s, s, -GateDistance, 0, previous, (2 * previous) - 1);
            }
        }
        return new GalaxyModel("test", GalaxyParameters.Default(systems, 1), systemArray, stars, planetArray, gates);
    }

    /// <summary>The id of the gate of <paramref name="system"/> that leads to the next system of the ring.</summary>
    public static int GateToNext(int system) => (2 * system) - 1;

    /// <summary>The id of the gate of <paramref name="system"/> that leads to the previous system of the ring.</summary>
    public static int GateToPrevious(int system) => 2 * system;

    /// <summary>The id of planet <paramref name="k"/> (0-based) of <paramref name="system"/>.</summary>
    public static int PlanetOf(int system, int k, int planetsPerSystem = 2) => ((system - 1) * planetsPerSystem) + k + 1;
}
