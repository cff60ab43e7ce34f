using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sol.Transport.Sockets;

/// <summary>
/// The raw socket kind's output: a <see cref="PipeWriter"/> straight onto the socket, with no pipe and no send loop
/// behind it. Written bytes collect in <see cref="BlockMemoryPool"/> blocks; <see cref="FlushAsync"/> hands them to the
/// kernel with non-blocking sends on the calling thread (for a broadcast, the send scheduler's drainer) and only when
/// the kernel's send buffer is full continues asynchronously, completing the flush once everything has gone out.
/// </summary>
/// <remarks>
/// A flush therefore waits exactly while the kernel cannot take more: the connection's own queue (where a newer
/// snapshot replaces an unsent one) is the only buffer in user space, and nothing is kept between flushes (an idle
/// connection holds no block). Single writer, as for any <see cref="PipeWriter"/>: writes and flushes come one after
/// another, never during a pending flush; <see cref="Complete"/> and <see cref="CancelPendingFlush"/> may come from
/// any thread.
/// </remarks>
internal sealed class SocketSender(Socket socket) : PipeWriter
{
    private readonly Lock _gate = new();
    private Segment[] _segments = new Segment[4];
    private int _head;      // first segment with unsent bytes
    private int _count;     // segments in use (the last one is written into)
    private bool _failed;   // the socket failed or was torn down: nothing more goes out
    private bool _sending;  // an asynchronous flush is under way (guarded by _gate)
    private bool _completed; // guarded by _gate
    private bool _cancelFlush;

    /// <summary>Bytes handed to the kernel so far (tests).</summary>
    internal long BytesSent { get; private set; }

    /// <summary>Blocks (or arrays) held for unsent or unflushed bytes (tests: none once everything went out).</summary>
    internal int HeldSegments => _count - _head;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _completed), this);
        var needed = Math.Max(sizeHint, 1);
        if (_count > 0)
        {
            ref var tail = ref _segments[_count - 1];
            if (tail.Memory.Length - tail.End >= needed)
            {
                return tail.Memory[tail.End..];
            }
        }
        return AddSegment(needed).Memory;
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        if (_count == 0)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(bytes, 0);
            return;
        }
        ref var tail = ref _segments[_count - 1];
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, tail.Memory.Length - tail.End);
        tail.End += bytes;
    }

    /// <summary>
    /// Sends everything written so far. Completes at once when the kernel took it all; otherwise when the rest has
    /// gone out. A failed or torn-down socket gives <see cref="FlushResult.IsCompleted"/> (as a pipe whose reader is
    /// gone does); <see cref="CancelPendingFlush"/> gives <see cref="FlushResult.IsCanceled"/>.
    /// </summary>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _completed) || _failed)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
        }
        if (TrySendNow())
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: ConsumeCancel(), isCompleted: false));
        }
        if (_failed)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
        }
        lock (_gate)
        {
            _sending = true;
        }
        return SendRestAsync(cancellationToken);
    }

    public override void CancelPendingFlush() => Volatile.Write(ref _cancelFlush, true);

    /// <summary>
    /// No more writes. When no flush is under way, unsent bytes are dropped (only flushed bytes count), the blocks go
    /// back and the send side is shut down (FIN); otherwise the flush does that when it ends.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }
            _completed = true;
            if (_sending)
            {
                return;
            }
        }
        Finish();
    }

    /// <summary>Marks the socket as gone (it is being torn down): flushes report completed from now on.</summary>
    internal void Fail() => _failed = true;

    /// <summary>Non-blocking sends of everything written; true when all of it went out.</summary>
    private bool TrySendNow()
    {
        while (_head < _count)
        {
            var sent = SendSome(out var error);
            if (error != SocketError.Success)
            {
                if (error != SocketError.WouldBlock)
                {
                    _failed = true;
                }
                return false;
            }
            Consume(sent);
        }
        return true;
    }

    /// <summary>
    /// One non-blocking send from the head: on Linux the consecutive blocks in one <c>sendmsg</c>, else (or for a
    /// pooled array) the head segment alone.
    /// </summary>
    private unsafe int SendSome(out SocketError error)
    {
        if (LinuxSend.IsSupported && _segments[_head].Block is not null)
        {
            var vectors = stackalloc LinuxSend.IoVector[LinuxSend.MaxVectors];
            var count = 0;
            for (var i = _head; i < _count && count < LinuxSend.MaxVectors && _segments[i].Block is not null; i++)
            {
                ref var segment = ref _segments[i];
                // Blocks live on the pinned object heap: their address does not move.
                vectors[count].Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(segment.Memory.Span)) + segment.Start;
                vectors[count].Length = (nuint)(segment.End - segment.Start);
                count++;
            }
            return LinuxSend.Send(socket.SafeHandle, vectors, count, out error);
        }
        ref var head = ref _segments[_head];
        return socket.Send(head.Memory.Span[head.Start..head.End], SocketFlags.None, out error);
    }

    /// <summary>Marks <paramref name="sent"/> bytes from the head as gone, giving back the segments sent whole.</summary>
    private void Consume(int sent)
    {
        BytesSent += sent;
        while (_head < _count)
        {
            ref var segment = ref _segments[_head];
            var take = Math.Min(sent, segment.End - segment.Start);
            segment.Start += take;
            sent -= take;
            if (segment.Start < segment.End)
            {
                return;
            }
            ReleaseHead();
        }
    }

    /// <summary>
    /// The slow path: the kernel's buffer was full. Waits for room by sending the head segment asynchronously, then
    /// goes on with non-blocking sends; the state machine is pooled (no allocation per slow flush).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> SendRestAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var head = _segments[_head];
                var sent = await socket.SendAsync(head.Memory[head.Start..head.End], SocketFlags.None, cancellationToken).ConfigureAwait(false);
                Consume(sent);
                if (TrySendNow())
                {
                    return new FlushResult(isCanceled: ConsumeCancel(), isCompleted: false);
                }
                if (_failed)
                {
                    return new FlushResult(isCanceled: false, isCompleted: true);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new FlushResult(isCanceled: true, isCompleted: false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _failed = true;
            return new FlushResult(isCanceled: false, isCompleted: true);
        }
        finally
        {
            bool finish;
            lock (_gate)
            {
                _sending = false;
                finish = _completed;
            }
            if (finish)
            {
                Finish();
            }
        }
    }

    private bool ConsumeCancel() => Volatile.Read(ref _cancelFlush) && Interlocked.Exchange(ref _cancelFlush, false);

    /// <summary>Gives every block back and, when the socket is still fine, sends FIN.</summary>
    private void Finish()
    {
        while (_head < _count)
        {
            ReleaseHead();
        }
        if (!_failed)
        {
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already reset or torn down: nothing to finish.
            }
        }
    }

    private ref Segment AddSegment(int size)
    {
        if (_count == _segments.Length)
        {
            if (_head > 0)
            {
                Array.Copy(_segments, _head, _segments, 0, _count - _head);
                Array.Clear(_segments, _count - _head, _head);
                _count -= _head;
                _head = 0;
            }
            else
            {
                Array.Resize(ref _segments, _segments.Length * 2);
            }
        }
        ref var segment = ref _segments[_count++];
        if (size <= BlockMemoryPool.BlockSize)
        {
            var block = BlockMemoryPool.Instance.Rent();
            segment = new Segment { Block = block, Memory = block.Memory };
        }
        else
        {
            // Bigger than a block in one piece (a caller's size hint): a pooled array for this once.
            var array = ArrayPool<byte>.Shared.Rent(size);
            segment = new Segment { Array = array, Memory = array };
        }
        return ref segment;
    }

    private void ReleaseHead()
    {
        ref var segment = ref _segments[_head];
        segment.Block?.Dispose();
        if (segment.Array is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
        segment = default;
        if (++_head == _count)
        {
            _head = 0;
            _count = 0;
        }
    }

    private struct Segment
    {
        public IMemoryOwner<byte>? Block;
        public byte[]? Array;
        public Memory<byte> Memory;
        public int Start; // sent up to here
        public int End;   // written up to here
    }
}
