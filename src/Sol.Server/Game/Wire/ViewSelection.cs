using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Server.Game.Wire;

/// <summary>
/// Interest management for crowded zones: which entities of a snapshot one client is sent. Every fixed body (star,
/// planet, gate, colony) and the client's own ship always; of the moving ships (players and NPCs) only the
/// <c>limit</c> nearest to the client's ship. Scratch arrays are reused, so a selection allocates nothing once they
/// have grown to the zone's size. One instance per zone: a zone is stepped by one worker at a time.
/// </summary>
internal sealed class ViewSelection
{
    private int[] _indices = new int[64];
    private int[] _moving = new int[64];
    private double[] _distance = new double[64];

    /// <summary>How many moving ships (players and NPCs) <paramref name="entities"/> holds.</summary>
    public static int CountMoving(ReadOnlySpan<EntityState> entities)
    {
        var count = 0;
        foreach (ref readonly var e in entities)
        {
            if (IsMoving(e.Kind))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>
    /// The indices (into <paramref name="entities"/>, in ascending order) of what a client whose ship is
    /// <paramref name="own"/> sees: fixed bodies, its own ship, and the <paramref name="limit"/> moving ships nearest
    /// to it. Valid until the next call.
    /// </summary>
    public ReadOnlySpan<int> Select(ReadOnlySpan<EntityState> entities, in EntityState own, int limit)
    {
        Grow(entities.Length);
        var fixedCount = 0;
        var movingCount = 0;
        for (var i = 0; i < entities.Length; i++)
        {
            ref readonly var e = ref entities[i];
            if (!IsMoving(e.Kind) || e.Handle == own.Handle)
            {
                _indices[fixedCount++] = i;
                continue;
            }
            var dx = e.X - own.X;
            var dy = e.Y - own.Y;
            _moving[movingCount] = i;
            _distance[movingCount] = (dx * dx) + (dy * dy);
            movingCount++;
        }
        if (movingCount > limit)
        {
            SelectNearest(_moving.AsSpan(0, movingCount), _distance.AsSpan(0, movingCount), limit);
            movingCount = limit;
        }
        _moving.AsSpan(0, movingCount).CopyTo(_indices.AsSpan(fixedCount));
        var selected = _indices.AsSpan(0, fixedCount + movingCount);
        selected.Sort();
        return selected;
    }

    private static bool IsMoving(EntityKind kind) => kind is EntityKind.Ship or EntityKind.Npc;

    /// <summary>Quickselect: afterwards the first <paramref name="k"/> items are the k nearest (in no order).</summary>
    private static void SelectNearest(Span<int> items, Span<double> distance, int k)
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
        if (_indices.Length < count)
        {
            var size = Math.Max(count, _indices.Length * 2);
            _indices = new int[size];
            _moving = new int[size];
            _distance = new double[size];
        }
    }
}
