namespace Sol.Server.Game.Port;

/// <summary>
/// A growable ring of <typeparamref name="T"/> (structs) with access to the last item, so a connection's send queue
/// can replace an unsent tick in place. Enqueue and dequeue allocate nothing once the ring has grown to its working
/// size. Not thread-safe: the owner locks.
/// </summary>
internal struct OutgoingQueue<T>
    where T : struct
{
    private T[] _items;
    private int _head;
    private int _count;

    public OutgoingQueue(int capacity)
    {
        _items = new T[capacity];
    }

    public readonly int Count => _count;

    /// <summary>The most recently enqueued item (the queue must not be empty).</summary>
    public readonly ref T Last => ref _items[(_head + _count - 1) % _items.Length];

    public void Enqueue(in T item)
    {
        if (_count == _items.Length)
        {
            var bigger = new T[_items.Length * 2];
            for (var i = 0; i < _count; i++)
            {
                bigger[i] = _items[(_head + i) % _items.Length];
            }
            _items = bigger;
            _head = 0;
        }
        _items[(_head + _count) % _items.Length] = item;
        _count++;
    }

    public bool TryDequeue(out T item)
    {
        if (_count == 0)
        {
            item = default;
            return false;
        }
        item = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        _count--;
        return true;
    }
}
