using Sol.Core.Galaxy;

namespace Sol.Bench.Zones;

/// <summary>Hand-built galaxies for the zone benchmarks: systems in a ring, one star each, two planets, two gates.</summary>
internal static class BenchGalaxy
{
    public static GalaxyModel Ring(int systems)
    {
        var systemArray = new StarSystem[systems];
        var stars = new Star[systems];
        var planets = new Planet[systems * 2];
        var gates = systems > 1 ? new Gate[systems * 2] : [];
        for (var s = 1; s <= systems; s++)
        {
            systemArray[s - 1] = new StarSystem(s, $"S{s}", s, 0);
            stars[s - 1] = new Star(s, s, 0, 0, 50, 1e6, 300);
            planets[(2 * s) - 2] = new Planet((2 * s) - 1, s, "a", 100, 2_000, 60, 0);
            planets[(2 * s) - 1] = new Planet(2 * s, s, "b", 100, 4_000, 120, 1);
            if (systems > 1)
            {
                var next = (s % systems) + 1;
                var previous = ((s + systems - 2) % systems) + 1;
                gates[(2 * s) - 2] = new Gate((2 * s) - 1, s, 8_000, 0, next, 2 * next);
                gates[(2 * s) - 1] = new Gate(2 * s, s, -8_000, 0, previous, (2 * previous) - 1);
            }
        }
        return new GalaxyModel("bench", GalaxyParameters.Default(systems, 1), systemArray, stars, planets, gates);
    }
}
