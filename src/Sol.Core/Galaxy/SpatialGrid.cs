namespace Sol.Core.Galaxy;

/// <summary>
/// A uniform grid over a square around the origin for nearest-neighbour queries during generation. Points outside the
/// square are clamped into its border cells, so every point is indexed. Cells are singly linked lists in two int arrays
/// (no object per point).
/// </summary>
internal sealed class SpatialGrid
{
    private readonly double _half;
    private readonly double _cellSize;
    private readonly int _cells;
    private readonly int[] _head;
    private readonly int[] _next;

    public SpatialGrid(double halfExtent, double cellSize, int capacity)
    {
        _half = halfExtent;
        _cells = (int)Math.Clamp(Math.Ceiling(2 * halfExtent / cellSize), 1, 4096);
        _cellSize = 2 * halfExtent / _cells;
        _head = new int[_cells * _cells];
        Array.Fill(_head, -1);
        _next = new int[capacity];
    }

    public int CellsPerSide => _cells;

    public double CellSize => _cellSize;

    public void Add(int index, double x, double y)
    {
        var cell = CellIndex(x, y);
        _next[index] = _head[cell];
        _head[cell] = index;
    }

    public int CellX(double x) => Math.Clamp((int)((x + _half) / _cellSize), 0, _cells - 1);

    public int CellY(double y) => Math.Clamp((int)((y + _half) / _cellSize), 0, _cells - 1);

    public int First(int cx, int cy) => _head[(cy * _cells) + cx];

    public int Next(int index) => _next[index];

    public bool AnyWithin(double x, double y, double distance, double[] xs, double[] ys)
    {
        var reach = (int)Math.Ceiling(distance / _cellSize);
        int cx = CellX(x), cy = CellY(y);
        var d2 = distance * distance;
        for (var gy = Math.Max(0, cy - reach); gy <= Math.Min(_cells - 1, cy + reach); gy++)
        {
            for (var gx = Math.Max(0, cx - reach); gx <= Math.Min(_cells - 1, cx + reach); gx++)
            {
                for (var i = First(gx, gy); i >= 0; i = _next[i])
                {
                    var dx = xs[i] - x;
                    var dy = ys[i] - y;
                    if ((dx * dx) + (dy * dy) < d2)
                    {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private int CellIndex(double x, double y) => (CellY(y) * _cells) + CellX(x);
}
