using System.Buffers;
using System.Runtime.CompilerServices;

namespace Sol.Transport.Tests.Support;

/// <summary>A diagnostic pool: counts what is rented and not returned, and fails on returning a foreign or twice-returned array.</summary>
public sealed class CountingArrayPool : ArrayPool<byte>
{
    private readonly ArrayPool<byte> _inner = ArrayPool<byte>.Create(4 << 20, 64);
    private readonly ConditionalWeakTable<byte[], object> _out = new();
    private long _outstanding;
    private string? _error;

    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Arrays rented so far (a path that must not copy rents none).</summary>
    public long Rents => Interlocked.Read(ref _rents);

    private long _rents;

    public override byte[] Rent(int minimumLength)
    {
        var array = _inner.Rent(minimumLength);
        lock (_out)
        {
            _out.AddOrUpdate(array, array);
        }
        Interlocked.Increment(ref _outstanding);
        Interlocked.Increment(ref _rents);
        return array;
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        lock (_out)
        {
            if (!_out.Remove(array))
            {
                _error = "an array was returned that was not rented (or returned twice)";
                return;
            }
        }
        Interlocked.Decrement(ref _outstanding);
        _inner.Return(array, clearArray);
    }

    /// <summary>Fails the test when a buffer leaked or was misreturned.</summary>
    public void AssertNoLeaks()
    {
        Assert.Null(_error);
        Assert.Equal(0, Outstanding);
    }
}
