using Sol.Core.Galaxy;

namespace Sol.Core.Tests;

public class GalaxyGeneratorTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        // zones, gate min, gate max
        { 2, 1, 1 },
        { 3, 1, 2 },
        { 4, 3, 3 },
        { 10, 2, 3 },
        { 50, 2, 3 },
        { 200, 3, 3 },
        { 301, 2, 4 },
        { 500, 1, 8 },
        { 64, 5, 5 },
        { 1000, 2, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GatesFormAConnectedSimpleGraphWithinTheDegreeRangeForManySeeds(int zones, int gateMin, int gateMax)
    {
        for (ulong seed = 1; seed <= 25; seed++)
        {
            var parameters = new GalaxyParameters(zones, new IntRange(1, 6), new IntRange(1, 2), new IntRange(gateMin, gateMax), seed);
            var galaxy = GalaxyGenerator.Generate("g", parameters);
            GalaxyAssert.GateGraphIsValid(galaxy, parameters.Gates);
            GalaxyAssert.BodiesDoNotOverlap(galaxy);
        }
    }

    [Fact]
    public void TheSameParametersGiveTheSameGalaxyAndHash()
    {
        var parameters = GalaxyParameters.Default(2000, 42);
        var a = GalaxyGenerator.Generate("a", parameters);
        var b = GalaxyGenerator.Generate("b", parameters);
        Assert.Equal(a.ContentHash, b.ContentHash);
        Assert.Equal(a.Systems, b.Systems);
        Assert.Equal(a.Stars, b.Stars);
        Assert.Equal(a.Planets, b.Planets);
        Assert.Equal(a.Gates, b.Gates);
    }

    [Fact]
    public void ADifferentSeedGivesADifferentGalaxy()
    {
        var a = GalaxyGenerator.Generate("a", GalaxyParameters.Default(300, 1));
        var b = GalaxyGenerator.Generate("a", GalaxyParameters.Default(300, 2));
        Assert.NotEqual(a.ContentHash, b.ContentHash);
    }

    [Fact]
    public void CountsStayInsideTheirRanges()
    {
        var parameters = new GalaxyParameters(400, new IntRange(2, 4), new IntRange(1, 3), new IntRange(2, 3), 9);
        var galaxy = GalaxyGenerator.Generate("g", parameters);
        var planetCounts = new HashSet<int>();
        var starCounts = new HashSet<int>();
        foreach (var s in galaxy.Systems)
        {
            var planets = galaxy.PlanetsOf(s.Id).Length;
            var stars = galaxy.StarsOf(s.Id).Length;
            Assert.InRange(planets, 2, 4);
            Assert.InRange(stars, 1, 3);
            planetCounts.Add(planets);
            starCounts.Add(stars);
        }
        // Every value of each range is used somewhere in 400 systems.
        Assert.Equal(3, planetCounts.Count);
        Assert.Equal(3, starCounts.Count);
    }

    [Fact]
    public void GatesLinkNearNeighboursNotAHairball()
    {
        var galaxy = GalaxyGenerator.Generate("g", GalaxyParameters.Default(5000, 7));
        var stats = GalaxyStatistics.Compute(galaxy);
        Assert.True(stats.Connected);
        // A random graph would link systems across the galaxy (hundreds of light years); ours stay local.
        Assert.True(stats.MeanLinkLength < 3 * stats.MeanNearestDistance, $"mean link {stats.MeanLinkLength:F1} ly vs nearest {stats.MeanNearestDistance:F1} ly");
        // Local links make a long-diameter graph (a hairball of degree 2..3 on 5,000 nodes has a diameter near 12).
        Assert.True(stats.Diameter > 40, $"diameter {stats.Diameter}");
    }

    [Fact]
    public void SystemNamesAreUnique()
    {
        var galaxy = GalaxyGenerator.Generate("g", GalaxyParameters.Default(20000, 3));
        Assert.Equal(galaxy.Systems.Length, galaxy.Systems.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData(0, 1, 6, 2, 3, "--zones")]
    [InlineData(10, 6, 1, 2, 3, "--planets")]
    [InlineData(10, 1, 6, 3, 2, "--gates")]
    [InlineData(3, 1, 6, 3, 3, "too few")]
    [InlineData(5, 1, 6, 3, 3, "even")]
    [InlineData(10, -1, 6, 2, 3, "negative")]
    [InlineData(10, 1, 6, 1, 1, "two gates")]
    public void ImpossibleParametersAreRejectedWithAReason(int zones, int pMin, int pMax, int gMin, int gMax, string expected)
    {
        var parameters = new GalaxyParameters(zones, new IntRange(pMin, pMax), new IntRange(1, 2), new IntRange(gMin, gMax), 1);
        var error = parameters.Validate();
        Assert.NotNull(error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => GalaxyGenerator.Generate("g", parameters));
    }
}

public class GalaxyRoutesTests
{
    [Fact]
    public void TheShortestRouteFollowsGatesAndHasTheFewestJumps()
    {
        var galaxy = GalaxyGenerator.Generate("g", GalaxyParameters.Default(400, 21));
        var route = GalaxyRoutes.ShortestRoute(galaxy, 1, 400);
        Assert.NotNull(route);
        Assert.Equal(1, route[0]);
        Assert.Equal(400, route[^1]);
        for (var i = 0; i + 1 < route.Length; i++)
        {
            var next = route[i + 1];
            Assert.Contains(galaxy.GatesOf(route[i]).ToArray(), g => g.TargetSystemId == next);
        }
        // Breadth-first distance from 1 agrees with the route's length.
        var distance = new Dictionary<int, int> { [1] = 0 };
        var queue = new Queue<int>([1]);
        while (queue.Count > 0)
        {
            var s = queue.Dequeue();
            foreach (var g in galaxy.GatesOf(s))
            {
                if (distance.TryAdd(g.TargetSystemId, distance[s] + 1))
                {
                    queue.Enqueue(g.TargetSystemId);
                }
            }
        }
        Assert.Equal(distance[400], route.Length - 1);
    }

    [Fact]
    public void UnknownSystemsHaveNoRouteAndASystemRoutesToItself()
    {
        var galaxy = GalaxyGenerator.Generate("g", GalaxyParameters.Default(10, 1));
        Assert.Null(GalaxyRoutes.ShortestRoute(galaxy, 0, 3));
        Assert.Null(GalaxyRoutes.ShortestRoute(galaxy, 3, 11));
        Assert.Equal([4], GalaxyRoutes.ShortestRoute(galaxy, 4, 4)!);
    }
}
