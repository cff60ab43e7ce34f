using System.Buffers;

namespace Sol.Transport.Sockets;

/// <summary>
/// The pipes' memory: fixed 4 KiB blocks on the pinned object heap, kept in one bounded stack without thread affinity.
/// <see cref="MemoryPool{T}.Shared"/> sits on <see cref="ArrayPool{T}.Shared"/>, which caches a few arrays per thread
/// and per core: with hundreds of connections flushing on pool threads most rents missed and allocated (measured
/// ~3.8 KB per message at 2,000 clients, bench/results/transport-e2e.md). Blocks rented here come back here whichever
/// thread returns them; beyond <see cref="MaxPooled"/> idle blocks a returned block is left to the GC.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;
    public const int MaxPooled = 16_384; // 64 MiB of idle blocks at most

    private readonly Lock _gate = new();
    private readonly Block?[] _free = new Block?[MaxPooled];
    private int _count;
    private long _created;
    private long _outstanding; // guarded by _gate

    public static BlockMemoryPool Instance { get; } = new();

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks ever created (tests: steady-state traffic creates none).</summary>
    public long Created => Volatile.Read(ref _created);

    /// <summary>Blocks rented and not given back (tests: none left once a connection is done).</summary>
    public long Outstanding
    {
        get
        {
            lock (_gate)
            {
                return _outstanding;
            }
        }
    }

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        lock (_gate)
        {
            _outstanding++; // counted under the lock the rent takes anyway (no extra atomic per block)
            if (_count > 0)
            {
                var block = _free[--_count]!;
                _free[_count] = null;
                block.Rented = true;
                return block;
            }
        }
        Interlocked.Increment(ref _created);
        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        // The pool is process-wide; its blocks live as long as the process.
    }

    private void Return(Block block)
    {
        lock (_gate)
        {
            if (!block.Rented)
            {
                return; // disposed twice: ignore, as MemoryPool owners may be
            }
            block.Rented = false;
            _outstanding--;
            if (_count < MaxPooled)
            {
                _free[_count++] = block;
            }
        }
    }

    private sealed class Block(BlockMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public bool Rented { get; set; } = true;

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }
}
