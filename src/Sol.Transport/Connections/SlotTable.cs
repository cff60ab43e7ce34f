namespace Sol.Transport.Connections;

/// <summary>
/// A set walked often and changed seldom (the server's open connections, for its timer and its shutdown): adding and
/// removing take a lock and reuse freed slots; walking takes no lock and allocates nothing (a <c>ConcurrentDictionary</c>
/// walk allocated an enumerator on every timer tick, the server's only allocation in steady state).
/// </summary>
/// <remarks>
/// A walk sees the items of one moment or a little later: one added during the walk may be missed and one removed
/// may still be visited, as with a concurrent dictionary. Both are harmless for a timer that runs again, and a
/// shutdown closes connections that arrive after it began on their own.
/// </remarks>
internal sealed class SlotTable<T>
    where T : class
{
    private readonly Lock _lock = new();
    private T?[] _slots = new T?[16];
    private int[] _free = new int[16]; // freed slot numbers, a stack; guarded by _lock
    private int _freeCount;
    private int _used; // slots handed out so far (a walk looks at these)

    /// <summary>Adds <paramref name="item"/>; the slot is what <see cref="Remove"/> takes.</summary>
    public int Add(T item)
    {
        lock (_lock)
        {
            int slot;
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                if (_used == _slots.Length)
                {
                    var grown = new T?[_slots.Length * 2];
                    _slots.CopyTo(grown, 0);
                    Volatile.Write(ref _slots, grown); // published before _used counts past the old length
                    Array.Resize(ref _free, grown.Length);
                }
                slot = _used;
                Volatile.Write(ref _used, _used + 1);
            }
            Volatile.Write(ref _slots[slot], item);
            return slot;
        }
    }

    /// <summary>Removes the item added at <paramref name="slot"/>.</summary>
    public void Remove(int slot)
    {
        lock (_lock)
        {
            // Twice would put the slot on the free list twice, and two items would then share it.
            System.Diagnostics.Debug.Assert(_slots[slot] is not null, "a slot removed twice");
            Volatile.Write(ref _slots[slot], null);
            _free[_freeCount++] = slot;
        }
    }

    /// <summary>Items in the table now (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _used - _freeCount;
            }
        }
    }

    public Enumerator GetEnumerator()
    {
        var used = Volatile.Read(ref _used); // first: the array read next is at least as new, so it holds them
        return new Enumerator(Volatile.Read(ref _slots), used);
    }

    /// <summary>A walk over the table's slots that skips the empty ones.</summary>
    public struct Enumerator
    {
        private readonly T?[] _slots;
        private readonly int _count;
        private int _index;

        internal Enumerator(T?[] slots, int count)
        {
            _slots = slots;
            _count = Math.Min(count, slots.Length);
            _index = -1;
            Current = null!;
        }

        public T Current { get; private set; }

        public bool MoveNext()
        {
            while (++_index < _count)
            {
                if (Volatile.Read(ref _slots[_index]) is { } item)
                {
                    Current = item;
                    return true;
                }
            }
            return false;
        }
    }
}
