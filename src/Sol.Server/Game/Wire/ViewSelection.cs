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
    private int[] _fixed = new int[64];
    private int[] _moving = new int[64];
    private EntityHandle[] _handles = new EntityHandle[64];
    private float[] _x = new float[64];
    private float[] _y = new float[64];
    private int[] _order = new int[64];
    private float[] _distance = new float[64];
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
        float ox = (float)own.X, oy = (float)own.Y;
        var x = _x.AsSpan(0, count);
        var y = _y.AsSpan(0, count);
        var distance = _distance.AsSpan(0, count);
        var order = _order.AsSpan(0, count);
        for (var i = 0; i < x.Length; i++)
        {
            var dx = x[i] - ox;
            var dy = y[i] - oy;
            distance[i] = (dx * dx) + (dy * dy);
            order[i] = i;
        }
        var handles = _handles.AsSpan(0, count);
        for (var i = 0; i < handles.Length; i++)
        {
            if (handles[i] == own.Handle)
            {
                distance[i] = -1; // the client's own ship is always in its view
                break;
            }
        }
        var take = Math.Min(count, limit + 1);
        if (take < count)
        {
            SelectNearest(order, distance, take);
        }
        var selected = _selected.AsSpan(0, _fixedCount + take);
        _fixed.AsSpan(0, _fixedCount).CopyTo(selected);
        for (var n = 0; n < take; n++)
        {
            selected[_fixedCount + n] = _moving[order[n]];
        }
        return selected;
    }

    /// <summary>Quickselect: afterwards the first <paramref name="k"/> items are the k nearest (in no order).</summary>
    private static void SelectNearest(Span<int> items, Span<float> distance, int k)
    {
        int left = 0, right = items.Length - 1;
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
                    (items[i], items[j]) = (items[j], items[i]);
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
            _selected = new int[size];
        }
    }
}
