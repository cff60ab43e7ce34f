using System.Buffers;

namespace Sol.Core.Galaxy;

/// <summary>Shortest routes over gates (fewest jumps), for waypoints, <c>GET /api/route</c> and bots.</summary>
public static class GalaxyRoutes
{
    /// <summary>
    /// The systems from <paramref name="from"/> to <paramref name="to"/> inclusive along a route with the fewest jumps, or
    /// null when either id is unknown or no route exists. Ties go to the lower system id at each step (deterministic).
    /// </summary>
    public static int[]? ShortestRoute(GalaxyModel galaxy, int from, int to)
    {
        ArgumentNullException.ThrowIfNull(galaxy);
        var n = galaxy.Systems.Length;
        if (from < 1 || from > n || to < 1 || to > n)
        {
            return null;
        }
        if (from == to)
        {
            return [from];
        }
        // Breadth-first from the destination, so following parents from the start walks forwards. The scratch arrays are
        // pooled: at 60,000 systems they are 480 KB, a large-object allocation per route otherwise.
        var parent = ArrayPool<int>.Shared.Rent(n + 1);
        var queue = ArrayPool<int>.Shared.Rent(n);
        try
        {
            Array.Clear(parent, 0, n + 1);
            int head = 0, tail = 0;
            parent[to] = to;
            queue[tail++] = to;
            while (head < tail && parent[from] == 0)
            {
                var s = queue[head++];
                foreach (var gate in galaxy.GatesOf(s))
                {
                    var t = gate.TargetSystemId;
                    if (parent[t] == 0)
                    {
                        parent[t] = s;
                        queue[tail++] = t;
                    }
                }
            }
            if (parent[from] == 0)
            {
                return null;
            }
            var route = new List<int> { from };
            for (var s = from; s != to; s = parent[s])
            {
                route.Add(parent[s]);
            }
            return [.. route];
        }
        finally
        {
            ArrayPool<int>.Shared.Return(queue);
            ArrayPool<int>.Shared.Return(parent);
        }
    }
}
