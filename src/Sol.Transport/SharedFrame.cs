using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Sol.Transport.Frames;

namespace Sol.Transport;

/// <summary>
/// A message framed ONCE into pooled bytes and shared by reference count, so a broadcast writes the same bytes to
/// every connection. <see cref="Create(ReadOnlySpan{byte}, WebSocketMessageKind)"/> hands out one reference; every <see cref="WebSocketConnection.Send(SharedFrame)"/>
/// takes its own, so the creator releases its reference once it has handed the frame to everyone.
/// </summary>
/// <remarks>
/// Thread-safe. The objects are pooled too: after the last <see cref="Release"/> the frame must not be touched (a
/// release too many throws).
/// </remarks>
public sealed class SharedFrame
{
    private const int PoolCapacity = 1024;
    private static readonly SharedFrame?[] s_pool = new SharedFrame?[PoolCapacity];
    private static readonly Lock s_poolLock = new();
    private static int s_pooled;

    private byte[] _buffer = [];
    private int _frameLength;
    private int _references;
    private ArrayPool<byte> _bufferPool = ArrayPool<byte>.Shared;
    private nint _pin; // a pinning GCHandle of _buffer once a socket sends straight from it (see Pin), else 0

    private SharedFrame()
    {
    }

    /// <summary>The payload length (without the frame header).</summary>
    public int Length { get; private set; }

    /// <summary>The whole frame (header and payload) as it goes on the wire.</summary>
    internal ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _frameLength);

    /// <summary>The live reference count (tests).</summary>
    internal int References => Volatile.Read(ref _references);

    /// <summary>Frames <paramref name="payload"/> into pooled bytes; the caller holds 1 reference.</summary>
    public static SharedFrame Create(ReadOnlySpan<byte> payload, WebSocketMessageKind kind = WebSocketMessageKind.Binary) =>
        Create(payload, kind, ArrayPool<byte>.Shared);

    /// <summary>
    /// As <see cref="Create(ReadOnlySpan{byte}, WebSocketMessageKind)"/> with the bytes from <paramref name="pool"/>.
    /// For frames created on one thread and released on others at a high rate (a snapshot per client per tick): the
    /// shared pool keeps arrays per thread and per core, so such traffic misses it and allocates; a pool made with
    /// <see cref="ArrayPool{T}.Create(int, int)"/> has no thread affinity. Also used by the leak tests.
    /// </summary>
    public static SharedFrame Create(ReadOnlySpan<byte> payload, WebSocketMessageKind kind, ArrayPool<byte> pool)
    {
        var frame = Rent();
        var headerLength = FrameWriter.HeaderLength(payload.Length);
        var buffer = pool.Rent(headerLength + payload.Length);
        FrameWriter.WriteHeader(buffer, FrameWriter.OpcodeOf(kind), payload.Length);
        payload.CopyTo(buffer.AsSpan(headerLength));
        frame._buffer = buffer;
        frame._bufferPool = pool;
        frame._frameLength = headerLength + payload.Length;
        frame.Length = payload.Length;
        Volatile.Write(ref frame._references, 1);
        return frame;
    }

    /// <summary>The whole frame as memory (a socket that sends straight from it holds a reference meanwhile).</summary>
    internal ReadOnlyMemory<byte> FrameMemory => _buffer.AsMemory(0, _frameLength);

    /// <summary>
    /// Pins the bytes until the last reference is released, so a socket can hand their address to the kernel
    /// (<c>sendmsg</c>, io_uring) while it holds a reference. One pin per frame, however many connections send it; the
    /// caller must hold a reference.
    /// </summary>
    /// <remarks>
    /// The pin lasts until the last reference anywhere is released (a slow connection's queue included), not only while a
    /// socket sends: a broadcast's frames are short-lived, but many pinned young arrays at once would fragment the GC's
    /// youngest generation. Frames from a pool made with <see cref="ArrayPool{T}.Create(int, int)"/> are usually old.
    /// </remarks>
    internal void Pin()
    {
        if (Volatile.Read(ref _pin) != 0)
        {
            return;
        }
        var handle = GCHandle.Alloc(_buffer, GCHandleType.Pinned);
        if (Interlocked.CompareExchange(ref _pin, GCHandle.ToIntPtr(handle), 0) != 0)
        {
            handle.Free(); // another thread pinned it first
        }
    }

    /// <summary>Whether <see cref="Pin"/> was called (tests).</summary>
    internal bool Pinned => Volatile.Read(ref _pin) != 0;

    /// <summary>Takes one more reference (released with <see cref="Release"/>).</summary>
    public void AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            ThrowReleased();
        }
    }

    /// <summary>Gives one reference back; the last one returns the bytes (and this object) to the pool.</summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left > 0)
        {
            return;
        }
        if (left < 0)
        {
            ThrowReleased();
        }
        var pin = _pin;
        if (pin != 0)
        {
            _pin = 0;
            GCHandle.FromIntPtr(pin).Free();
        }
        var buffer = _buffer;
        _buffer = [];
        _frameLength = 0;
        Length = 0;
        _bufferPool.Return(buffer);
        Return(this);
    }

    private static SharedFrame Rent()
    {
        lock (s_poolLock)
        {
            if (s_pooled > 0)
            {
                var frame = s_pool[--s_pooled]!;
                s_pool[s_pooled] = null;
                return frame;
            }
        }
        return new SharedFrame();
    }

    private static void Return(SharedFrame frame)
    {
        lock (s_poolLock)
        {
            if (s_pooled < PoolCapacity)
            {
                s_pool[s_pooled++] = frame;
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowReleased() => throw new InvalidOperationException("The shared frame was already released.");
}
