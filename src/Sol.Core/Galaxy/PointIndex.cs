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
        var search = new NearestSearch(accept);
        Scan(from, ref search);
        return search.Best;
    }

    /// <summary>The k nearest points to each point, nearest first (k × N ints, row per point).</summary>
    public int[] KNearest(int k)
    {
        var result = new int[_x.Length * k];
        var bestD2 = new double[k];
        for (var p = 0; p < _x.Length; p++)
        {
            var search = new KNearestSearch(result.AsMemory(p * k, k), bestD2);
            Scan(p, ref search);
        }
        return result;
    }

    /// <summary>
    /// Visits the points around <paramref name="from"/> ring of cells by ring, outwards, until the visitor says that no
    /// unvisited ring can hold anything nearer than what it has (a point in ring r is at least (r - 1) cells away).
    /// </summary>
    private void Scan<T>(int from, ref T visitor)
        where T : struct, IRingVisitor
    {
        int cx = _grid.CellX(_x[from]), cy = _grid.CellY(_y[from]);
        var cells = _grid.CellsPerSide;
        for (var ring = 0; ring < cells; ring++)
        {
            var reach = (ring - 1) * _grid.CellSize;
            if (reach > 0 && visitor.Complete(reach * reach))
            {
                return;
            }
            for (var gy = Math.Max(0, cy - ring); gy <= Math.Min(cells - 1, cy + ring); gy++)
            {
                var edgeRow = gy == cy - ring || gy == cy + ring;
                for (var gx = cx - ring; gx <= cx + ring; gx += edgeRow ? 1 : 2 * Math.Max(ring, 1))
                {
                    if (gx < 0 || gx >= cells)
                    {
                        continue;
                    }
                    for (var i = _grid.First(gx, gy); i >= 0; i = _grid.Next(i))
                    {
                        if (i != from)
                        {
                            visitor.Visit(i, Distance2(from, i));
                        }
                    }
                }
            }
        }
    }

    private interface IRingVisitor
    {
        /// <summary>True when nothing at squared distance <paramref name="reach2"/> or more can improve the result.</summary>
        bool Complete(double reach2);

        void Visit(int index, double distance2);
    }

    private struct NearestSearch(Func<int, bool> accept) : IRingVisitor
    {
        private double _bestD2 = double.MaxValue;

        public int Best { get; private set; } = -1;

        public readonly bool Complete(double reach2) => Best >= 0 && reach2 > _bestD2;

        public void Visit(int i, double d2)
        {
            // Ties go to the lower index, so the result does not depend on the grid's visiting order.
            if ((d2 < _bestD2 || (d2 == _bestD2 && i < Best)) && accept(i))
            {
                _bestD2 = d2;
                Best = i;
            }
        }
    }

    private struct KNearestSearch : IRingVisitor
    {
        private readonly Memory<int> _row;
        private readonly double[] _bestD2;
        private readonly int _k;
        private int _found;

        public KNearestSearch(Memory<int> row, double[] bestD2)
        {
            _row = row;
            _bestD2 = bestD2;
            _k = row.Length;
            row.Span.Fill(-1);
            bestD2.AsSpan().Fill(double.MaxValue);
        }

        public readonly bool Complete(double reach2) => _found == _k && reach2 > _bestD2[_k - 1];

        public void Visit(int i, double d2)
        {
            var row = _row.Span;
            if (_found == _k && (d2 > _bestD2[_k - 1] || (d2 == _bestD2[_k - 1] && i > row[_k - 1])))
            {
                return;
            }
            // Insertion into the sorted best-k list (ties by index).
            var at = Math.Min(_found, _k - 1);
            while (at > 0 && (_bestD2[at - 1] > d2 || (_bestD2[at - 1] == d2 && row[at - 1] > i)))
            {
                _bestD2[at] = _bestD2[at - 1];
                row[at] = row[at - 1];
                at--;
            }
            _bestD2[at] = d2;
            row[at] = i;
            _found = Math.Min(_found + 1, _k);
        }
    }
}
