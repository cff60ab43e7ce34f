using System.Numerics;
using System.Runtime.InteropServices;
using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Server.Game.Wire;

/// <summary>
/// Interest management for crowded zones: which ships of a snapshot one client is sent (a snapshot carries only the
/// moving ships, players and NPCs; the fixed bodies are in ZoneEnter). The client's own ship always, and of the others
/// only the <c>limit</c> nearest to it. <see cref="Prepare"/> once per tick, then <see cref="Select"/> per
/// client. Scratch arrays are reused, so a selection allocates nothing once they
/// have grown to the zone's size. One instance per zone: a zone is stepped by one worker at a time.
/// </summary>
/// <remarks>
/// In zones of <see cref="GridFrom"/> moving ships or more, where a view holds less than a quarter of them,
/// <see cref="Prepare"/> also sorts them into a square grid (about three a cell), and a client's selection looks only
/// at the rings of cells around its ship that must hold its nearest ships, not at every ship: 2.4x faster at 2,000
/// ships, 4.5x at 5,000 (bench/results/view-selection.md).
/// </remarks>
internal sealed class ViewSelection
{
    private const int SampleSize = 64;

    private int[] _moving = new int[64];
    private EntityHandle[] _handles = new EntityHandle[64];
    private float[] _x = new float[64];
    private float[] _y = new float[64];
    private int[] _order = new int[64];
    private float[] _distance = new float[64];
    private float[] _candidateDistance = new float[64];
    private int[] _ties = new int[64];
    private int[] _selected = new int[64];
    private int _movingCount;

    /// <summary>How many ships the last <see cref="Select"/> measured the distance to (tests: the grid's saving).</summary>
    internal int LookedAt { get; private set; }

    /// <summary>Whether the last <see cref="Prepare"/> built a grid (tests).</summary>
    internal bool HasGrid => _grid > 0;

    // The grid of the moving ships (built by Prepare in zones of GridFrom ships or more): cell c holds the ships at
    // _cellStart[c] .. _cellStart[c + 1] - 1 of the _grid* arrays (positions, handles, moving indices, in cell order).
    internal const int GridFrom = 256;
    private const int ShipsPerCell = 3;
    private int _grid; // cells per side; 0: no grid
    private float _gridMinX;
    private float _gridMinY;
    private float _cellSize;
    private int[] _cellStart = new int[65];
    private float[] _gridX = new float[64];
    private float[] _gridY = new float[64];
    private EntityHandle[] _gridHandles = new EntityHandle[64];
    private int[] _gridMoving = new int[64];
    private readonly int _gridFrom;
    private readonly bool _trimBox;

    /// <param name="gridFrom">Moving ships from which a grid is built (benchmarks compare with none: <see cref="int.MaxValue"/>).</param>
    /// <param name="trimBox">Whether the grid's box leaves out the farthest 1 % (benchmarks compare with a box around every ship).</param>
    internal ViewSelection(int gridFrom = GridFrom, bool trimBox = true)
    {
        _gridFrom = gridFrom;
        _trimBox = trimBox;
    }

    /// <summary>
    /// Picks this tick's moving ships out of the entities, with their positions in flat arrays so each client's
    /// selection is a pass over two float arrays instead of the 80-byte snapshot rows. Returns how many moving ships
    /// (players and NPCs) there are.
    /// </summary>
    /// <param name="entities">The snapshot's entities.</param>
    /// <param name="limit">The <c>limit</c> this tick's selections will ask for: no grid is built where a view would hold
    /// a quarter of the zone or more, since <see cref="Select"/> looks at every ship there anyway. Null: built in every
    /// zone of <see cref="GridFrom"/> ships or more (tests and benchmarks).</param>
    public int Prepare(ReadOnlySpan<EntityState> entities, int? limit = null)
    {
        Grow(entities.Length);
        _movingCount = 0;
        for (var i = 0; i < entities.Length; i++)
        {
            ref readonly var e = ref entities[i];
            // A ship at a position that is not a number (only a physics bug would make one) is in nobody's view: NaN
            // distances would break the quickselects (helper-70).
            if (e.Kind is EntityKind.Ship or EntityKind.Npc && float.IsFinite((float)e.X) && float.IsFinite((float)e.Y))
            {
                _moving[_movingCount] = i;
                _handles[_movingCount] = e.Handle;
                _x[_movingCount] = (float)e.X;
                _y[_movingCount] = (float)e.Y;
                _movingCount++;
            }
        }
        BuildGrid(limit);
        return _movingCount;
    }

    /// <summary>
    /// A square grid over the moving ships' bounding box, about <see cref="ShipsPerCell"/> ships a cell on average, the
    /// ships sorted into it by a counting sort (O(ships)); no grid in small zones, or when every ship is on one spot.
    /// </summary>
    private void BuildGrid(int? limit)
    {
        var count = _movingCount;
        _grid = 0;
        if (count < _gridFrom || (limit is { } l && !GridPays(Math.Min(count, l + 1L), count)))
        {
            return;
        }
        // The box leaves out the farthest 1 % of the ships on each side, which go into the edge cells: with
        // every ship inside it, one ship flown far away made a box in which all the others fell into one cell, and every
        // selection looked at the whole zone again. Selections stay exact: a position clamped into the box is its
        // projection onto it, and projecting never brings two points nearer, so a cell's distance bound still holds for
        // the ships clamped into it (and for an own ship outside the box).
        var trim = _trimBox ? count / 100 : 0;
        var (minX, maxX) = Trimmed(_x.AsSpan(0, count), trim);
        var (minY, maxY) = Trimmed(_y.AsSpan(0, count), trim);
        var size = Math.Max(maxX - minX, maxY - minY);
        if (!(size > 0) || !float.IsFinite(size))
        {
            return;
        }
        var grid = Math.Clamp((int)Math.Ceiling(Math.Sqrt(count / (double)ShipsPerCell)), 1, 256);
        var cells = grid * grid;
        if (_cellStart.Length < cells + 1)
        {
            _cellStart = new int[cells + 1];
        }
        (_grid, _gridMinX, _gridMinY, _cellSize) = (grid, minX, minY, size / grid);
        var start = _cellStart.AsSpan(0, cells + 1);
        start.Clear();
        var fullest = 0;
        for (var i = 0; i < count; i++)
        {
            fullest = Math.Max(fullest, ++start[CellOf(_x[i], _y[i]) + 1]);
        }
        if (fullest > count / 2)
        {
            // More than half the ships in one cell (more than 1 % of them far out on one side stretched the box): the
            // rings would gather that cell for most clients, at more than looking at every ship costs (1,860 against
            // 729 us per 64 clients at 2,000 ships, bench/results/view-selection.md; helper-70).
            _grid = 0;
            return;
        }
        for (var c = 0; c < cells; c++)
        {
            start[c + 1] += start[c];
        }
        // Placed at start[c], which moves on; afterwards start[c] is where cell c + 1 begins, so shift back by one.
        for (var i = 0; i < count; i++)
        {
            var at = start[CellOf(_x[i], _y[i])]++;
            _gridX[at] = _x[i];
            _gridY[at] = _y[i];
            _gridHandles[at] = _handles[i];
            _gridMoving[at] = i;
        }
        for (var c = cells; c > 0; c--)
        {
            start[c] = start[c - 1];
        }
        start[0] = 0;
    }

    /// <summary>The smallest and the largest of <paramref name="values"/> once the <paramref name="trim"/> smallest and the
    /// <paramref name="trim"/> largest are left out (two quickselects over a scratch copy).</summary>
    private (float Low, float High) Trimmed(ReadOnlySpan<float> values, int trim)
    {
        if (trim == 0)
        {
            float min = float.MaxValue, max = float.MinValue;
            foreach (var v in values)
            {
                (min, max) = (Math.Min(min, v), Math.Max(max, v));
            }
            return (min, max);
        }
        var scratch = _candidateDistance.AsSpan(0, values.Length);
        values.CopyTo(scratch);
        SelectSmallest(scratch, default(NoItems), trim + 1);
        var low = scratch[trim];
        SelectSmallest(scratch, default(NoItems), values.Length - trim);
        return (low, scratch[values.Length - trim - 1]);
    }

    /// <summary>Whether a selection of <paramref name="take"/> of <paramref name="count"/> ships goes by the grid: only
    /// when it takes less than a quarter of them (else the rings would gather most of the zone).</summary>
    private static bool GridPays(long take, int count) => take * 4 < count;

    private int CellOf(float x, float y) => (CellCoordinate(y - _gridMinY) * _grid) + CellCoordinate(x - _gridMinX);

    /// <summary>The cell column (or row) of an offset from the box's corner, clamped into the grid: a ship outside the box
    /// (clamped as a float first, so that no offset overflows the conversion) is in an edge cell.</summary>
    private int CellCoordinate(float offset) => (int)Math.Clamp(offset / _cellSize, 0f, _grid - 1);

    /// <summary>
    /// The indices (into the entities given to <see cref="Prepare"/>) of what a client whose ship is
    /// <paramref name="own"/> sees: its own ship and the <paramref name="limit"/> other moving ships nearest to it (in no
    /// particular order). Valid until the next call.
    /// </summary>
    public ReadOnlySpan<int> Select(in EntityState own, int limit)
    {
        var count = _movingCount;
        var take = Math.Min(count, limit + 1);
        if (_grid > 0 && GridPays(take, count) && SelectByGrid(own, take))
        {
            return Selected(_order, take);
        }
        LookedAt = count;
        var distance = _distance.AsSpan(0, count);
        Distances(_x.AsSpan(0, count), _y.AsSpan(0, count), (float)own.X, (float)own.Y, distance);
        var ownIndex = _handles.AsSpan(0, count).IndexOf(own.Handle);
        if (ownIndex >= 0)
        {
            distance[ownIndex] = -1; // the client's own ship is always in its view
        }
        var order = _order.AsSpan(0, count);
        if (take < count)
        {
            // Only ships no farther than a threshold can be among the nearest `take`: keep those (with their distances)
            // and select among them — usually a third of the zone instead of all of it.
            var candidateDistance = _candidateDistance.AsSpan(0, count);
            var candidates = Candidates(distance, take, order, candidateDistance);
            SelectSmallest(candidateDistance[..candidates], new Items(order[..candidates]), take);
        }
        else
        {
            Identity(order);
        }
        return Selected(order, take);
    }

    /// <summary>The moving ships whose moving indices are the first <paramref name="take"/> of <paramref name="order"/>.</summary>
    private ReadOnlySpan<int> Selected(ReadOnlySpan<int> order, int take)
    {
        var selected = _selected.AsSpan(0, take);
        for (var n = 0; n < take; n++)
        {
            selected[n] = _moving[order[n]];
        }
        return selected;
    }

    /// <summary>
    /// The nearest <paramref name="take"/> (the own ship among them) by the grid: rings of cells around the own ship's
    /// cell are gathered until <paramref name="take"/> of the gathered ships are no farther than r cells' width — every
    /// ship outside the rings gathered so far is at least that far — then the nearest are selected among them: their
    /// moving indices first in the order array. False (nothing selected) when the own ship is not in the gathered
    /// cells: its position given here is not the one prepared, or it is not a moving ship of this zone.
    /// </summary>
    private bool SelectByGrid(in EntityState own, int take)
    {
        var order = _order.AsSpan();
        var distance = _candidateDistance.AsSpan();
        var grid = _grid;
        var ox = (float)own.X;
        var oy = (float)own.Y;
        var cx = CellCoordinate(ox - _gridMinX);
        var cy = CellCoordinate(oy - _gridMinY);
        var farthestRing = Math.Max(Math.Max(cx, grid - 1 - cx), Math.Max(cy, grid - 1 - cy));
        var n = 0;
        var ownSeen = false;
        for (var r = 0; ; r++)
        {
            if (r == 0)
            {
                n = Gather(cy * grid + cx, own.Handle, ox, oy, order, distance, n, ref ownSeen);
            }
            else
            {
                for (var x = cx - r; x <= cx + r; x++)
                {
                    if (x >= 0 && x < grid)
                    {
                        if (cy - r >= 0)
                        {
                            n = Gather((cy - r) * grid + x, own.Handle, ox, oy, order, distance, n, ref ownSeen);
                        }
                        if (cy + r < grid)
                        {
                            n = Gather((cy + r) * grid + x, own.Handle, ox, oy, order, distance, n, ref ownSeen);
                        }
                    }
                }
                for (var y = cy - r + 1; y <= cy + r - 1; y++)
                {
                    if (y >= 0 && y < grid)
                    {
                        if (cx - r >= 0)
                        {
                            n = Gather(y * grid + cx - r, own.Handle, ox, oy, order, distance, n, ref ownSeen);
                        }
                        if (cx + r < grid)
                        {
                            n = Gather(y * grid + cx + r, own.Handle, ox, oy, order, distance, n, ref ownSeen);
                        }
                    }
                }
            }
            if (r >= farthestRing)
            {
                break; // every cell gathered
            }
            if (n >= take)
            {
                // A ship in a cell outside rings 0..r is at least r cells' width away along x or y (a thousandth of a
                // cell less, for a position rounded into the next cell).
                var reach = r == 0 ? 0 : (r - 0.001f) * _cellSize;
                var bound = reach * reach;
                var within = 0;
                foreach (var d in distance[..n])
                {
                    within += d <= bound ? 1 : 0;
                }
                if (within >= take)
                {
                    break;
                }
            }
        }
        LookedAt = n;
        if (!ownSeen)
        {
            // The own ship was not where the rings looked (its position given here is not the one prepared, or it is
            // not a moving ship of this zone): the way that finds it by its handle wherever it is.
            return false;
        }
        if (n > take)
        {
            SelectSmallest(distance[..n], new Items(order[..n]), take);
        }
        return true;
    }

    /// <summary>Appends the ships of <paramref name="cell"/> (their moving indices and squared distances; the own ship at -1).</summary>
    private int Gather(int cell, EntityHandle own, float ox, float oy, Span<int> order, Span<float> distance, int n, ref bool ownSeen)
    {
        var end = _cellStart[cell + 1];
        for (var at = _cellStart[cell]; at < end; at++)
        {
            var dx = _gridX[at] - ox;
            var dy = _gridY[at] - oy;
            order[n] = _gridMoving[at];
            if (_gridHandles[at] == own)
            {
                distance[n] = -1;
                ownSeen = true;
            }
            else
            {
                distance[n] = (dx * dx) + (dy * dy);
            }
            n++;
        }
        return n;
    }

    /// <summary>Squared distances from (ox, oy), a vector of floats at a time.</summary>
    private static void Distances(ReadOnlySpan<float> x, ReadOnlySpan<float> y, float ox, float oy, Span<float> distance)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            var vd = MemoryMarshal.Cast<float, Vector<float>>(distance);
            Vector<float> cx = new(ox), cy = new(oy);
            for (var v = 0; v < vd.Length; v++)
            {
                var dx = vx[v] - cx;
                var dy = vy[v] - cy;
                vd[v] = (dx * dx) + (dy * dy);
            }
            i = vd.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++)
        {
            var dx = x[i] - ox;
            var dy = y[i] - oy;
            distance[i] = (dx * dx) + (dy * dy);
        }
    }

    /// <summary>
    /// Puts into <paramref name="order"/> (with their distances) ships among which the nearest <paramref name="take"/>
    /// are, and returns how many: every ship nearer than a threshold taken from an evenly spaced sample (chosen so that
    /// usually a little more than <paramref name="take"/> pass). When fewer pass, ships exactly at the threshold fill
    /// up to <paramref name="take"/> (ties: many ships on one spot, as at a spawn point), and only when that is not
    /// enough either (an unlucky sample) all ships are returned.
    /// </summary>
    private int Candidates(ReadOnlySpan<float> distance, int take, Span<int> order, Span<float> candidateDistance)
    {
        var count = distance.Length;
        var sampleSize = Math.Min(count, SampleSize);
        Span<float> sample = stackalloc float[SampleSize];
        sample = sample[..sampleSize];
        var stride = count / sampleSize;
        for (var s = 0; s < sample.Length; s++)
        {
            sample[s] = distance[s * stride];
        }
        // The sample's rank for `take` of `count`, with a margin: a threshold a little above the true one.
        var rank = Math.Min(sampleSize - 1, (int)((long)take * sampleSize / count) + (sampleSize / 8) + 1);
        var threshold = KthSmallest(sample, rank);
        var ties = _ties.AsSpan(0, take);
        var tieCount = 0;
        var passed = 0;
        for (var i = 0; i < count; i++)
        {
            var d = distance[i];
            order[passed] = i;
            candidateDistance[passed] = d;
            passed += d < threshold ? 1 : 0; // no branch: the comparison is a coin flip per ship
            if (d == threshold && tieCount < ties.Length)
            {
                ties[tieCount++] = i;
            }
        }
        if (passed >= take)
        {
            return passed;
        }
        if (passed + tieCount >= take)
        {
            // Everything nearer than the threshold, then as many as needed of the ships exactly at it.
            for (var t = 0; passed < take; t++, passed++)
            {
                order[passed] = ties[t];
                candidateDistance[passed] = threshold;
            }
            return passed;
        }
        Identity(order);
        distance.CopyTo(candidateDistance);
        return count;
    }

    private static void Identity(Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
    }

    /// <summary>The value of rank <paramref name="k"/> (0-based) in <paramref name="values"/>, which it reorders.</summary>
    private static float KthSmallest(Span<float> values, int k)
    {
        SelectSmallest(values, default(NoItems), k + 1);
        return values[k];
    }

    /// <summary>
    /// Quickselect: afterwards the first <paramref name="k"/> keys are the k smallest (in no order) and the key at
    /// k - 1 is the k-th smallest; <paramref name="items"/> move with their keys (a struct: no cost when there are none).
    /// </summary>
    private static void SelectSmallest<TItems>(Span<float> distance, TItems items, int k)
        where TItems : IItems, allows ref struct
    {
        int left = 0, right = distance.Length - 1;
        while (left < right)
        {
            var pivot = distance[left + ((right - left) / 2)];
            int i = left, j = right;
            while (i <= j)
            {
                while (distance[i] < pivot)
                {
                    i++;
                }
                while (distance[j] > pivot)
                {
                    j--;
                }
                if (i <= j)
                {
                    (distance[i], distance[j]) = (distance[j], distance[i]);
                    items.Swap(i, j);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j)
            {
                right = j;
            }
            else if (k - 1 >= i)
            {
                left = i;
            }
            else
            {
                return;
            }
        }
    }

    private interface IItems
    {
        void Swap(int i, int j);
    }

    private readonly ref struct NoItems : IItems
    {
        public void Swap(int i, int j)
        {
        }
    }

    private readonly ref struct Items(Span<int> items) : IItems
    {
        private readonly Span<int> _items = items;

        public void Swap(int i, int j) => (_items[i], _items[j]) = (_items[j], _items[i]);
    }

    private void Grow(int count)
    {
        if (_moving.Length < count)
        {
            var size = Math.Max(count, _moving.Length * 2);
            _moving = new int[size];
            _handles = new EntityHandle[size];
            _x = new float[size];
            _y = new float[size];
            _order = new int[size];
            _distance = new float[size];
            _candidateDistance = new float[size];
            _ties = new int[size];
            _selected = new int[size];
            _gridX = new float[size];
            _gridY = new float[size];
            _gridHandles = new EntityHandle[size];
            _gridMoving = new int[size];
        }
    }
}
