namespace Sol.Core.Galaxy;

/// <summary>
/// Facts about a galaxy's shape for <c>atom inspect</c> and for tests: counts, the gate-degree histogram, whether the
/// gate graph is connected, its diameter in jumps and the mean gate link length on the map.
/// </summary>
/// <param name="DegreeHistogram">Index d holds the number of systems with d gates.</param>
/// <param name="Diameter">Longest shortest route in jumps; exact when <paramref name="DiameterExact"/>, else a lower bound from repeated double sweeps (exact BFS from every system is quadratic).</param>
/// <param name="MeanLinkLength">Mean map distance between linked systems, light years.</param>
/// <param name="MeanNearestDistance">Mean distance from a system to its nearest system, light years (the scale a link length compares to).</param>
public sealed record GalaxyStatistics(
    int Systems, int Stars, int Planets, int Gates, int[] DegreeHistogram, bool Connected, int Diameter, bool DiameterExact,
    double MeanLinkLength, double MeanNearestDistance)
{
    /// <summary>Galaxies up to this many systems get an exact diameter.</summary>
    public const int ExactDiameterLimit = 3000;

    public static GalaxyStatistics Compute(GalaxyModel galaxy)
    {
        ArgumentNullException.ThrowIfNull(galaxy);
        var n = galaxy.Systems.Length;
        var histogram = new int[GalaxyLimits.MaxGatesPerSystem + 1];
        var linkLength = 0.0;
        for (var s = 1; s <= n; s++)
        {
            var gates = galaxy.GatesOf(s);
            histogram[Math.Min(gates.Length, histogram.Length - 1)]++;
            foreach (var g in gates)
            {
                linkLength += MapDistance(galaxy, s, g.TargetSystemId);
            }
        }

        var distances = new int[n];
        var queue = new int[n];
        var (farthest, eccentricity, reached) = n == 0 ? (0, 0, 0) : Bfs(galaxy, 1, distances, queue);
        var connected = reached == n;
        int diameter;
        var exact = n <= ExactDiameterLimit;
        if (!connected || n == 0)
        {
            diameter = -1;
        }
        else if (exact)
        {
            diameter = 0;
            for (var s = 1; s <= n; s++)
            {
                diameter = Math.Max(diameter, Bfs(galaxy, s, distances, queue).Eccentricity);
            }
        }
        else
        {
            diameter = eccentricity;
            var start = farthest;
            for (var sweep = 0; sweep < 4; sweep++)
            {
                var (next, e, _) = Bfs(galaxy, start, distances, queue);
                diameter = Math.Max(diameter, e);
                start = next;
            }
        }

        return new GalaxyStatistics(
            n, galaxy.Stars.Length, galaxy.Planets.Length, galaxy.Gates.Length, histogram, connected, diameter, exact,
            galaxy.Gates.Length == 0 ? 0 : linkLength / galaxy.Gates.Length, MeanNearest(galaxy));
    }

    private static (int Farthest, int Eccentricity, int Reached) Bfs(GalaxyModel galaxy, int source, int[] distance, int[] queue)
    {
        Array.Fill(distance, -1);
        int head = 0, tail = 0;
        distance[source - 1] = 0;
        queue[tail++] = source;
        var farthest = source;
        while (head < tail)
        {
            var s = queue[head++];
            foreach (var g in galaxy.GatesOf(s))
            {
                if (distance[g.TargetSystemId - 1] < 0)
                {
                    distance[g.TargetSystemId - 1] = distance[s - 1] + 1;
                    queue[tail++] = g.TargetSystemId;
                    farthest = g.TargetSystemId;
                }
            }
        }
        return (farthest, distance[farthest - 1], tail);
    }

    private static double MeanNearest(GalaxyModel galaxy)
    {
        var n = galaxy.Systems.Length;
        if (n < 2)
        {
            return 0;
        }
        var x = new double[n];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = galaxy.Systems[i].X;
            y[i] = galaxy.Systems[i].Y;
        }
        var index = new PointIndex(x, y, GalaxyMap.Spacing);
        var nearest = index.KNearest(1);
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            sum += Math.Sqrt(index.Distance2(i, nearest[i]));
        }
        return sum / n;
    }

    private static double MapDistance(GalaxyModel galaxy, int a, int b)
    {
        ref readonly var sa = ref galaxy.System(a);
        ref readonly var sb = ref galaxy.System(b);
        return Math.Sqrt(((sa.X - sb.X) * (sa.X - sb.X)) + ((sa.Y - sb.Y) * (sa.Y - sb.Y)));
    }
}
