using System.Collections.Concurrent;
using Sol.Transport;

namespace Sol.Server.Game.Port;

/// <summary>
/// A <see cref="SharedMessage"/> over a transport <see cref="SharedFrame"/>: the snapshot is framed once, and every
/// connection that queues it takes its own reference on the frame. The wrappers are pooled, so sharing a snapshot
/// allocates nothing once the pools are warm.
/// </summary>
internal sealed class TransportSharedMessage : SharedMessage
{
    private const int MaxPooled = 1024;

    private static readonly ConcurrentQueue<TransportSharedMessage> s_pool = new();

    private SharedFrame? _frame;

    private TransportSharedMessage()
    {
    }

    /// <summary>The framed bytes (valid while this message holds its reference).</summary>
    public SharedFrame Frame => _frame ?? throw new InvalidOperationException("the shared message was released");

    public static TransportSharedMessage Rent(ReadOnlySpan<byte> payload)
    {
        if (s_pool.TryDequeue(out var message))
        {
            message.Revive();
        }
        else
        {
            message = new TransportSharedMessage();
        }
        message._frame = SharedFrame.Create(payload);
        return message;
    }

    protected override void ReturnToPool()
    {
        var frame = _frame;
        _frame = null;
        frame?.Release();
        if (s_pool.Count < MaxPooled)
        {
            s_pool.Enqueue(this);
        }
    }
}
