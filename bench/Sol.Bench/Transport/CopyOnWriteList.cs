namespace Sol.Bench.Transport;

/// <summary>
/// The subscriber set of the broadcast servers: writers copy under a lock, readers take the current array without
/// one (joins and leaves are rare, broadcasts are many). Both servers use it, so they differ only in the transport.
/// </summary>
public sealed class CopyOnWriteList<T> where T : class
{
    private readonly Lock _lock = new();
    private T[] _items = [];

    public T[] Items => Volatile.Read(ref _items);

    public void Add(T item)
    {
        lock (_lock)
        {
            var items = new T[_items.Length + 1];
            _items.CopyTo(items, 0);
            items[^1] = item;
            Volatile.Write(ref _items, items);
        }
    }

    public void Remove(T item)
    {
        lock (_lock)
        {
            var at = Array.IndexOf(_items, item);
            if (at < 0)
            {
                return;
            }
            var items = new T[_items.Length - 1];
            Array.Copy(_items, 0, items, 0, at);
            Array.Copy(_items, at + 1, items, at, _items.Length - at - 1);
            Volatile.Write(ref _items, items);
        }
    }
}
