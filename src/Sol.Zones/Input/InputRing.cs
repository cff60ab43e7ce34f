using System.Runtime.InteropServices;

namespace Sol.Zones.Input;

/// <summary>
/// A bounded, lock-free, multi-producer single-consumer ring of <see cref="InputCommand"/>s: the inbox of one zone.
/// No allocation after construction. When the ring is full, a producer drops the oldest input (counted in
/// <see cref="Dropped"/>) and retries, so the newest inputs always get in.
/// </summary>
/// <remarks>
/// The algorithm is the bounded queue of D. Vyukov: every cell carries a sequence number that says whether it is free
/// for the producer at position p (<c>seq == p</c>) or holds the item for the consumer at position p
/// (<c>seq == p + 1</c>). Producers claim positions with a CAS on <c>_tail</c>. Dropping the oldest makes a producer
/// consume one item, so <c>_head</c> is also advanced by CAS, which keeps the consumer correct against such steals.
/// Thread rules: <see cref="TryEnqueue"/> from any thread; <see cref="TryDequeue"/> only from the thread stepping the
/// zone (one consumer).
/// </remarks>
public sealed class InputRing
{
    private readonly int _size;
    private readonly long _mask;
    private Cell[]? _cells;
    private PaddedLong _head;
    private PaddedLong _tail;
    private long _dropped;
    private long _requestsDropped;

    /// <param name="capacity">Rounded up to a power of two, at least 2.</param>
    public InputRing(int capacity)
    {
        if (capacity < 1 || capacity > 1 << 24)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(capacity));
        }
        _size = (int)Math.Max(2, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity));
        _mask = _size - 1;
    }

    /// <summary>How many inputs fit.</summary>
    public int Capacity => _size;

    /// <summary>Inputs dropped because the ring was full (the oldest steering inputs go first).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Of <see cref="Dropped"/>, requests (jump, land, take off): only when the ring held nothing else to drop,
    /// or another producer took the room one was being put back into.</summary>
    public long RequestsDropped => Volatile.Read(ref _requestsDropped);

    /// <summary>Inputs waiting (a snapshot; may be stale by the time it is read).</summary>
    public int Count => (int)Math.Clamp(Volatile.Read(ref _tail.Value) - Volatile.Read(ref _head.Value), 0, _size);

    /// <summary>
    /// Adds an input; when the ring is full, drops the oldest steering input first. A request met on the way is put
    /// back at the tail rather than dropped: a steering input is superseded by its owner's next one a tick later, a
    /// request is asked once (dropping it left the player with no transfer and no answer). Returns true when something
    /// was dropped.
    /// </summary>
    public bool TryEnqueue(in InputCommand input)
    {
        var droppedAny = false;
        var movedBack = 0;
        while (!TryEnqueueCore(in input))
        {
            if (!TryDequeue(out var oldest))
            {
                continue;
            }
            // Behind newer inputs is no change for a request: it is applied when read, for its owner's ship. At most a
            // ring's worth are moved per call, so a ring of requests only still makes room.
            if (oldest.Action != ShipAction.None && movedBack++ < _size && TryEnqueueCore(in oldest))
            {
                continue;
            }
            Interlocked.Increment(ref _dropped);
            if (oldest.Action != ShipAction.None)
            {
                Interlocked.Increment(ref _requestsDropped);
            }
            droppedAny = true;
        }
        return droppedAny;
    }

    /// <summary>Takes the oldest input. Only the zone's stepping thread calls this.</summary>
    public bool TryDequeue(out InputCommand input)
    {
        var cells = Volatile.Read(ref _cells);
        if (cells is null)
        {
            input = default;
            return false;
        }
        var position = Volatile.Read(ref _head.Value);
        while (true)
        {
            ref var cell = ref cells[position & _mask];
            var sequence = Volatile.Read(ref cell.Sequence);
            var diff = sequence - (position + 1);
            if (diff == 0)
            {
                var seen = Interlocked.CompareExchange(ref _head.Value, position + 1, position);
                if (seen == position)
                {
                    input = cell.Value;
                    Volatile.Write(ref cell.Sequence, position + _size);
                    return true;
                }
                position = seen;
            }
            else if (diff < 0)
            {
                input = default;
                return false;
            }
            else
            {
                position = Volatile.Read(ref _head.Value);
            }
        }
    }

    private bool TryEnqueueCore(in InputCommand input)
    {
        var cells = Volatile.Read(ref _cells) ?? AllocateCells();
        var position = Volatile.Read(ref _tail.Value);
        while (true)
        {
            ref var cell = ref cells[position & _mask];
            var sequence = Volatile.Read(ref cell.Sequence);
            var diff = sequence - position;
            if (diff == 0)
            {
                var seen = Interlocked.CompareExchange(ref _tail.Value, position + 1, position);
                if (seen == position)
                {
                    cell.Value = input;
                    Volatile.Write(ref cell.Sequence, position + 1);
                    return true;
                }
                position = seen;
            }
            else if (diff < 0)
            {
                return false;
            }
            else
            {
                position = Volatile.Read(ref _tail.Value);
            }
        }
    }

    /// <summary>
    /// The cells are allocated by the first input, not by the constructor: a big galaxy has hundreds of thousands of
    /// zones (every planet is one) and most never see an input; 1,024 cells are 40 KB. Racing producers each build an
    /// array; one wins the CAS, the others drop theirs (once per zone, never per tick).
    /// </summary>
    private Cell[] AllocateCells()
    {
        var cells = new Cell[_size];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i].Sequence = i;
        }
        return Interlocked.CompareExchange(ref _cells, cells, null) ?? cells;
    }

    private struct Cell
    {
        public long Sequence;
        public InputCommand Value;
    }

    /// <summary>Keeps head and tail on separate cache lines so producers and the consumer do not share one.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong
    {
        [FieldOffset(64)]
        public long Value;
    }
}
