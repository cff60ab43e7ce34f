using System.Numerics;
using System.Runtime.InteropServices;
using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Server.Game.Wire;

/// <summary>
/// Interest management for crowded zones: which entities of a snapshot one client is sent. Every fixed body (star,
/// planet, gate, colony) and the client's own ship always; of the moving ships (players and NPCs) only the
/// <c>limit</c> nearest to the client's ship. <see cref="Prepare"/> once per tick, then <see cref="Select"/> per
/// client. Scratch arrays are reused, so a selection allocates nothing once they
/// have grown to the zone's size. One instance per zone: a zone is stepped by one worker at a time.
/// </summary>
internal sealed class ViewSelection
{
    private const int SampleSize = 64;

    private int[] _fixed = new int[64];
    private int[] _moving = new int[64];
    private EntityHandle[] _handles = new EntityHandle[64];
    private float[] _x = new float[64];
    private float[] _y = new float[64];
    private int[] _order = new int[64];
    private float[] _distance = new float[64];
    private float[] _candidateDistance = new float[64];
    private int[] _ties = new int[64];
    private int[] _selected = new int[64];
    private int _fixedCount;
    private int _movingCount;

    /// <summary>
    /// Sorts this tick's entities into fixed bodies and moving ships, with the ships' positions in flat arrays so each
    /// client's selection is a pass over two float arrays instead of the 80-byte snapshot rows. Returns how many
    /// moving ships (players and NPCs) there are.
    /// </summary>
    public int Prepare(ReadOnlySpan<EntityState> entities)
    {
        Grow(entities.Length);
        _fixedCount = 0;
        _movingCount = 0;
        for (var i = 0; i < entities.Length; i++)
        {
            ref readonly var e = ref entities[i];
            if (e.Kind is EntityKind.Ship or EntityKind.Npc)
            {
                _moving[_movingCount] = i;
                _handles[_movingCount] = e.Handle;
                _x[_movingCount] = (float)e.X;
                _y[_movingCount] = (float)e.Y;
                _movingCount++;
            }
            else
            {
                _fixed[_fixedCount++] = i;
            }
        }
        return _movingCount;
    }

    /// <summary>
    /// The indices (into the entities given to <see cref="Prepare"/>) of what a client whose ship is
    /// <paramref name="own"/> sees: every fixed body, its own ship, and the <paramref name="limit"/> other moving ships
    /// nearest to it (in no particular order). Valid until the next call.
    /// </summary>
    public ReadOnlySpan<int> Select(in EntityState own, int limit)
    {
        var count = _movingCount;
        var distance = _distance.AsSpan(0, count);
        Distances(_x.AsSpan(0, count), _y.AsSpan(0, count), (float)own.X, (float)own.Y, distance);
        var ownIndex = _handles.AsSpan(0, count).IndexOf(own.Handle);
        if (ownIndex >= 0)
        {
            distance[ownIndex] = -1; // the client's own ship is always in its view
        }
        var take = Math.Min(count, limit + 1);
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
        var selected = _selected.AsSpan(0, _fixedCount + take);
        _fixed.AsSpan(0, _fixedCount).CopyTo(selected);
        for (var n = 0; n < take; n++)
        {
            selected[_fixedCount + n] = _moving[order[n]];
        }
        return selected;
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
        if (_fixed.Length < count)
        {
            var size = Math.Max(count, _fixed.Length * 2);
            _fixed = new int[size];
            _moving = new int[size];
            _handles = new EntityHandle[size];
            _x = new float[size];
            _y = new float[size];
            _order = new int[size];
            _distance = new float[size];
            _candidateDistance = new float[size];
            _ties = new int[size];
            _selected = new int[size];
        }
    }
}
