using Sol.Core.Mathematics;

namespace Sol.Core.Galaxy;

/// <summary>
/// Stage 2 of generation: which systems are linked by gate pairs. The result is connected, simple (no self-links, no
/// two links between one pair) and every degree lies in the gate range; links join near neighbours on the map.
/// </summary>
/// <remarks>
/// <para>How: (1) candidate links are each system's <see cref="Neighbours"/> nearest systems; (2) Kruskal over the
/// candidates by length, with the degree cap, gives a short spanning forest; (3) leftover components are joined by
/// their shortest link to another component (a tree always has a node below the cap when the cap is at least 2, so
/// this cannot get stuck); (4) each system draws a target degree in the range and is linked to its nearest systems that
/// still have room, nearest first; (5) anything still below the minimum is paired with the nearest system with room,
/// or, when every system nearby is full, splits a nearby link (a–b becomes u–a and u–b), which keeps the graph
/// connected.</para>
/// <para>Adjacency is a flat <c>int[N × max]</c> with a degree array: no list per system.</para>
/// </remarks>
internal sealed class GateGraph
{
    private const int Neighbours = 8;

    private readonly int _max;
    private readonly int[] _adjacency;
    private readonly int[] _degree;

    private GateGraph(int count, int max)
    {
        _max = Math.Max(max, 1);
        _adjacency = new int[count * _max];
        _degree = new int[count];
    }

    public int Count => _degree.Length;

    public int Degree(int node) => _degree[node];

    /// <summary>The neighbours of <paramref name="node"/>, unordered.</summary>
    public ReadOnlySpan<int> NeighboursOf(int node) => _adjacency.AsSpan(node * _max, _degree[node]);

    public static GateGraph Build(double[] x, double[] y, IntRange gates, ulong seed)
    {
        var count = x.Length;
        var graph = new GateGraph(count, gates.Max);
        if (count < 2 || gates.Max == 0)
        {
            return graph;
        }

        var index = new PointIndex(x, y, GalaxyMap.Spacing);
        var k = Math.Min(Neighbours, count - 1);
        var knn = index.KNearest(k);
        var unionFind = new UnionFind(count);
        graph.SpanningForest(knn, k, index, unionFind, gates.Max);
        graph.JoinComponents(index, unionFind, gates.Max);

        var random = DeterministicRandom.ForStream(seed, 3);
        var target = new int[count];
        for (var i = 0; i < count; i++)
        {
            target[i] = random.NextInt(gates.Min, gates.Max);
        }
        graph.RaiseTowardTargets(knn, k, target, gates.Max);
        graph.RepairMinimum(index, gates);
        return graph;
    }

    public bool Linked(int a, int b) => NeighboursOf(a).Contains(b);

    private void Link(int a, int b)
    {
        _adjacency[(a * _max) + _degree[a]++] = b;
        _adjacency[(b * _max) + _degree[b]++] = a;
    }

    private void Unlink(int a, int b)
    {
        RemoveHalf(a, b);
        RemoveHalf(b, a);
    }

    private void RemoveHalf(int a, int b)
    {
        var row = _adjacency.AsSpan(a * _max, _degree[a]);
        var at = row.IndexOf(b);
        row[at] = row[^1];
        _degree[a]--;
    }

    private void SpanningForest(int[] knn, int k, PointIndex index, UnionFind unionFind, int max)
    {
        // Candidate edges (a < b, deduplicated) sorted by squared length, then by endpoints for a total order.
        var edges = new List<(double Length, int A, int B)>(Count * k);
        for (var a = 0; a < Count; a++)
        {
            foreach (var b in knn.AsSpan(a * k, k))
            {
                if (a < b || !knn.AsSpan(b * k, k).Contains(a))
                {
                    edges.Add((index.Distance2(a, b), Math.Min(a, b), Math.Max(a, b)));
                }
            }
        }
        edges.Sort();
        foreach (var (_, a, b) in edges)
        {
            if (_degree[a] < max && _degree[b] < max && unionFind.Union(a, b))
            {
                Link(a, b);
            }
        }
    }

    private void JoinComponents(PointIndex index, UnionFind unionFind, int max)
    {
        // Components by root, smallest first; each is joined by its shortest link (both ends with room) to a node
        // outside it. Components are few and small: the nearest-neighbour candidates already join almost everything.
        var members = new Dictionary<int, List<int>>();
        for (var i = 0; i < Count; i++)
        {
            var root = unionFind.Find(i);
            if (!members.TryGetValue(root, out var list))
            {
                members[root] = list = [];
            }
            list.Add(i);
        }
        if (members.Count == 1)
        {
            return;
        }
        var order = members.Values.OrderBy(m => m.Count).ThenBy(m => m[0]).ToList();
        for (var c = 0; c < order.Count - 1; c++)
        {
            var component = order[c];
            var root = unionFind.Find(component[0]);
            var best = (Length: double.MaxValue, A: -1, B: -1);
            foreach (var a in component)
            {
                if (_degree[a] >= max)
                {
                    continue;
                }
                var b = index.Nearest(a, n => _degree[n] < max && unionFind.Find(n) != root);
                if (b >= 0 && index.Distance2(a, b) < best.Length)
                {
                    best = (index.Distance2(a, b), a, b);
                }
            }
            if (best.A < 0)
            {
                throw new InvalidOperationException("gate graph: a component has no node with a free gate");
            }
            unionFind.Union(best.A, best.B);
            Link(best.A, best.B);
        }
    }

    private void RaiseTowardTargets(int[] knn, int k, int[] target, int max)
    {
        for (var a = 0; a < Count; a++)
        {
            foreach (var b in knn.AsSpan(a * k, k))
            {
                if (_degree[a] >= target[a])
                {
                    break;
                }
                if (_degree[b] < Math.Max(target[b], 1) && _degree[b] < max && !Linked(a, b))
                {
                    Link(a, b);
                }
            }
        }
    }

    private void RepairMinimum(PointIndex index, IntRange gates)
    {
        for (var u = 0; u < Count; u++)
        {
            while (_degree[u] < gates.Min)
            {
                var v = index.Nearest(u, n => _degree[n] < gates.Max && !Linked(u, n));
                if (v >= 0)
                {
                    Link(u, v);
                    continue;
                }
                if (gates.Max - _degree[u] >= 2 && SplitNearbyLink(index, u))
                {
                    continue;
                }
                if (!CrossSplitNearbyLink(index, u, gates.Max))
                {
                    throw new InvalidOperationException($"gate graph: system {u + 1} cannot reach {gates.Min} gates");
                }
            }
        }
    }

    private bool SplitNearbyLink(PointIndex index, int u)
    {
        // Every system near u is full: take the nearest a (not linked to u) that has a neighbour b (not u, not linked
        // to u); a–b becomes u–a and u–b. a and b stay connected through u, so the graph stays connected.
        var a = index.Nearest(u, n => !Linked(u, n) && HasSplittableNeighbour(n, u));
        if (a < 0)
        {
            return false;
        }
        var b = -1;
        foreach (var n in NeighboursOf(a))
        {
            if (n != u && !Linked(u, n) && (b < 0 || index.Distance2(u, n) < index.Distance2(u, b)))
            {
                b = n;
            }
        }
        Unlink(a, b);
        Link(u, a);
        Link(u, b);
        return true;
    }

    private bool CrossSplitNearbyLink(PointIndex index, int u, int max)
    {
        // u has room for one gate and the only other system with room is v, already linked to u (gates come in pairs, so
        // one exists). A link a–b with a not linked to u and b not linked to v becomes u–a and v–b; a–u–v–b keeps
        // everything connected.
        var v = index.Nearest(u, n => _degree[n] < max);
        if (v < 0)
        {
            return false;
        }
        var a = index.Nearest(u, n => n != v && !Linked(u, n) && HasNeighbourFreeFor(n, u, v));
        if (a < 0)
        {
            return false;
        }
        var b = -1;
        foreach (var n in NeighboursOf(a))
        {
            if (n != u && n != v && !Linked(v, n) && (b < 0 || index.Distance2(v, n) < index.Distance2(v, b)))
            {
                b = n;
            }
        }
        Unlink(a, b);
        Link(u, a);
        Link(v, b);
        return true;
    }

    private bool HasNeighbourFreeFor(int a, int u, int v)
    {
        foreach (var n in NeighboursOf(a))
        {
            if (n != u && n != v && !Linked(v, n))
            {
                return true;
            }
        }
        return false;
    }

    private bool HasSplittableNeighbour(int a, int u)
    {
        foreach (var n in NeighboursOf(a))
        {
            if (n != u && !Linked(u, n))
            {
                return true;
            }
        }
        return false;
    }
}
