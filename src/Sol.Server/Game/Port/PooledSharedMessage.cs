using System.Buffers;

namespace Sol.Server.Game.Port;

/// <summary>A <see cref="SharedMessage"/> over an <see cref="ArrayPool{T}"/> array.</summary>
internal sealed class PooledSharedMessage : SharedMessage
{
    private byte[] _buffer;
    private readonly int _length;

    public PooledSharedMessage(ReadOnlySpan<byte> payload)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(_buffer);
        _length = payload.Length;
    }

    public override ReadOnlyMemory<byte> Payload => _buffer.AsMemory(0, _length);

    protected override void ReturnToPool()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
