namespace Sol.Core.Galaxy;

/// <summary>
/// Nearest-point queries over the map positions, on a <see cref="SpatialGrid"/>: rings of cells are searched outwards
/// until no unsearched cell can hold anything nearer than the best found. Ties break on the lower index, so results are
/// deterministic.
/// </summary>
internal sealed class PointIndex
{
    private readonly double[] _x;
    private readonly double[] _y;
    private readonly SpatialGrid _grid;

    public PointIndex(double[] x, double[] y, double cellSize)
    {
        _x = x;
        _y = y;
        var half = 1.0;
        for (var i = 0; i < x.Length; i++)
        {
            half = Math.Max(half, Math.Max(Math.Abs(x[i]), Math.Abs(y[i])));
        }
        _grid = new SpatialGrid(half * 1.0001, cellSize, x.Length);
        for (var i = 0; i < x.Length; i++)
        {
            _grid.Add(i, x[i], y[i]);
        }
    }

    public double Distance2(int a, int b)
    {
        var dx = _x[a] - _x[b];
        var dy = _y[a] - _y[b];
        return (dx * dx) + (dy * dy);
    }

    /// <summary>The nearest point to <paramref name="from"/> that <paramref name="accept"/> takes, or -1.</summary>
    public int Nearest(int from, Func<int, bool> accept)
    {
        var best = -1;
        var bestD2 = double.MaxValue;
        int cx = _grid.CellX(_x[from]), cy = _grid.CellY(_y[from]);
        var cells = _grid.CellsPerSide;
        for (var ring = 0; ring < cells; ring++)
        {
            if (best >= 0)
            {
                var reach = (ring - 1) * _grid.CellSize;
                if (reach > 0 && reach * reach > bestD2)
                {
                    break;
                }
            }
            for (var gy = cy - ring; gy <= cy + ring; gy++)
            {
                if (gy < 0 || gy >= cells)
                {
                    continue;
                }
                var edgeRow = gy == cy - ring || gy == cy + ring;
                for (var gx = cx - ring; gx <= cx + ring; gx += edgeRow ? 1 : 2 * Math.Max(ring, 1))
                {
                    if (gx < 0 || gx >= cells)
                    {
                        continue;
                    }
                    for (var i = _grid.First(gx, gy); i >= 0; i = _grid.Next(i))
                    {
                        if (i == from)
                        {
                            continue;
                        }
                        var d2 = Distance2(from, i);
                        if ((d2 < bestD2 || (d2 == bestD2 && i < best)) && accept(i))
                        {
                            bestD2 = d2;
                            best = i;
                        }
                    }
                }
            }
        }
        return best;
    }

    /// <summary>The k nearest points to each point, nearest first (k × N ints, row per point).</summary>
    public int[] KNearest(int k)
    {
        var count = _x.Length;
        var result = new int[count * k];
        var bestD2 = new double[k];
        var cells = _grid.CellsPerSide;
        for (var p = 0; p < count; p++)
        {
            var row = result.AsSpan(p * k, k);
            row.Fill(-1);
            bestD2.AsSpan().Fill(double.MaxValue);
            var found = 0;
            int cx = _grid.CellX(_x[p]), cy = _grid.CellY(_y[p]);
            for (var ring = 0; ring < cells; ring++)
            {
                if (found == k)
                {
                    var reach = (ring - 1) * _grid.CellSize;
                    if (reach > 0 && reach * reach > bestD2[k - 1])
                    {
                        break;
                    }
                }
                for (var gy = cy - ring; gy <= cy + ring; gy++)
                {
                    if (gy < 0 || gy >= cells)
                    {
                        continue;
                    }
                    var edgeRow = gy == cy - ring || gy == cy + ring;
                    for (var gx = cx - ring; gx <= cx + ring; gx += edgeRow ? 1 : 2 * Math.Max(ring, 1))
                    {
                        if (gx < 0 || gx >= cells)
                        {
                            continue;
                        }
                        for (var i = _grid.First(gx, gy); i >= 0; i = _grid.Next(i))
                        {
                            if (i == p)
                            {
                                continue;
                            }
                            var d2 = Distance2(p, i);
                            if (found == k && (d2 > bestD2[k - 1] || (d2 == bestD2[k - 1] && i > row[k - 1])))
                            {
                                continue;
                            }
                            // Insertion into the sorted best-k list.
                            var at = Math.Min(found, k - 1);
                            while (at > 0 && (bestD2[at - 1] > d2 || (bestD2[at - 1] == d2 && row[at - 1] > i)))
                            {
                                bestD2[at] = bestD2[at - 1];
                                row[at] = row[at - 1];
                                at--;
                            }
                            bestD2[at] = d2;
                            row[at] = i;
                            found = Math.Min(found + 1, k);
                        }
                    }
                }
            }
        }
        return result;
    }
}
