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
    private readonly Cell[] _cells;
    private readonly long _mask;
    private PaddedLong _head;
    private PaddedLong _tail;
    private long _dropped;

    /// <param name="capacity">Rounded up to a power of two, at least 2.</param>
    public InputRing(int capacity)
    {
        if (capacity < 1 || capacity > 1 << 24)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(capacity));
        }
        var size = (int)Math.Max(2, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity));
        _cells = new Cell[size];
        for (var i = 0; i < size; i++)
        {
            _cells[i].Sequence = i;
        }
        _mask = size - 1;
    }

    /// <summary>How many inputs fit.</summary>
    public int Capacity => _cells.Length;

    /// <summary>Inputs dropped because the ring was full (the oldest go first).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Inputs waiting (a snapshot; may be stale by the time it is read).</summary>
    public int Count => (int)Math.Clamp(Volatile.Read(ref _tail.Value) - Volatile.Read(ref _head.Value), 0, _cells.Length);

    /// <summary>Adds an input; when the ring is full, drops the oldest first. Returns true when something was dropped.</summary>
    public bool TryEnqueue(in InputCommand input)
    {
        var droppedAny = false;
        while (!TryEnqueueCore(in input))
        {
            if (TryDequeue(out _))
            {
                Interlocked.Increment(ref _dropped);
                droppedAny = true;
            }
        }
        return droppedAny;
    }

    /// <summary>Takes the oldest input. Only the zone's stepping thread calls this.</summary>
    public bool TryDequeue(out InputCommand input)
    {
        var cells = _cells;
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
                    Volatile.Write(ref cell.Sequence, position + _cells.Length);
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
        var cells = _cells;
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
