using System.Buffers;
using System.Collections.Concurrent;

namespace Sol.Server.Game.Port;

/// <summary>
/// A <see cref="SharedMessage"/> over an <see cref="ArrayPool{T}"/> array. The wrappers themselves are pooled too, so
/// sharing a zone's snapshot each tick allocates nothing once the pools are warm.
/// </summary>
internal sealed class PooledSharedMessage : SharedMessage
{
    private const int MaxPooled = 1024;

    private static readonly ConcurrentBag<PooledSharedMessage> s_pool = [];

    private byte[] _buffer = [];
    private int _length;

    private PooledSharedMessage()
    {
    }

    /// <summary>The message's payload bytes (as encoded, before WebSocket framing).</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(0, _length);

    public static PooledSharedMessage Rent(ReadOnlySpan<byte> payload)
    {
        if (!s_pool.TryTake(out var message))
        {
            message = new PooledSharedMessage();
        }
        else
        {
            message.Revive();
        }
        message._buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(message._buffer);
        message._length = payload.Length;
        return message;
    }

    protected override void ReturnToPool()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (s_pool.Count < MaxPooled)
        {
            s_pool.Add(this);
        }
    }
}
