using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Sol.Transport.Connections;

namespace Sol.Transport.Sockets;

/// <summary>
/// One accepted socket of the raw kind: output <see cref="SocketSender"/>; input pipe filled on an <see cref="IoLoop"/>
/// (Linux) or, elsewhere, by <see cref="ReceiveLoopAsync"/>.
/// </summary>
internal sealed class RawSocketConnection : TransportConnection, IDuplexPipe, IIoLoopSocket, IThreadPoolWorkItem
{
    // The input pipe continues its reader inline on the receiving thread (the connection's read loop only parses and
    // hands messages on), as the other kinds' inline reads do; its blocks come from BlockMemoryPool.
    private static readonly PipeOptions s_inputOptions = new(
        pool: BlockMemoryPool.Instance,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        minimumSegmentSize: BlockMemoryPool.BlockSize,
        useSynchronizationContext: false);

    private readonly Socket _socket;
    private readonly Pipe _input = new(s_inputOptions);
    private readonly SocketSender _output;
    private readonly Task _receiving;
    private int _aborted;

    // The loop's side (touched on the loop's thread only, but for the token's allocation).
    private readonly IoLoop? _loop;
    private readonly TaskCompletionSource? _inputEnded;
    private readonly Action? _onFlushed;
    private GCHandle _token;
    private ValueTask<FlushResult> _pendingFlush;
    private bool _paused;     // the input pipe is full: reading waits for _pendingFlush
    private bool _ended;      // the input pipe was completed
    private bool _hangUp;     // the peer's FIN (or an error) was reported: read until the end

    /// <param name="loop">The I/O loop that reads it; null: a receive loop through the runtime's socket engine.</param>
    /// <param name="ringSends">Flushes made on an I/O loop with an <see cref="IoRing"/> join its batch of sends.</param>
    public RawSocketConnection(Socket socket, BlockMemoryPool sendBlocks, IoLoop? loop, bool ringSends = true)
    {
        _socket = socket;
        _output = new SocketSender(socket, sendBlocks, roomFromLoop: loop is not null, ringSends);
        RemoteEndPoint = socket.RemoteEndPoint;
        if (loop is null)
        {
            _receiving = ReceiveLoopAsync();
            return;
        }
        _loop = loop;
        _inputEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiving = _inputEnded.Task;
        _onFlushed = () => _loop.Post(this);
        _token = GCHandle.Alloc(this);
        try
        {
            // Last: from here the loop may call OnReady on its thread.
            _loop.Watch(socket.SafeHandle, GCHandle.ToIntPtr(_token));
        }
        catch
        {
            _token.Free(); // out of epoll watches or memory: the accept loop logs it; nothing is left behind
            socket.Dispose();
            throw;
        }
    }

    public override IDuplexPipe Pipe => this;

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output;

    public override EndPoint? RemoteEndPoint { get; }

    /// <summary>Broadcast drainers run on the I/O loops when the input does (no thread pool hand-off either way).</summary>
    internal override SendScheduler Scheduler => _loop is null ? SendScheduler.Shared : SendScheduler.IoLoops;

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            _output.Fail();
            _loop?.Unwatch(_socket.SafeHandle); // before the descriptor can be reused
            if (!_output.SentFin)
            {
                AbortiveClose();
            }
            _socket.Dispose();
            _input.Writer.CancelPendingFlush(); // a receive loop waiting for the reader to make room ends too
            _loop?.Post(this); // ends the input and frees the token there
        }
    }

    /// <summary>Tears the socket down, waits for the receive loop to end and gives the send blocks back.</summary>
    public override async ValueTask DisposeAsync()
    {
        Abort();
        await _receiving.ConfigureAwait(false);
        _output.Complete();
    }

    void IIoLoopSocket.OnReady(uint events)
    {
        if ((events & (Epoll.ReadHangUp | Epoll.Hup | Epoll.Err)) != 0)
        {
            _hangUp = true; // read on to the end even past a short read (the edge that said so is gone)
        }
        try
        {
            if ((events & (Epoll.Out | Epoll.Hup | Epoll.Err)) != 0)
            {
                _output.OnWritable(); // a flush waiting for room goes on (or finds the socket failed)
            }
        }
        finally
        {
            // OUT alone (room after a full send buffer) brings no input.
            if ((events & (Epoll.In | Epoll.ReadHangUp | Epoll.Hup | Epoll.Err)) != 0 && !_paused && !_ended)
            {
                ReceiveAvailable();
            }
        }
    }

    /// <summary>
    /// Torn down before the send side ended cleanly (a failure, or flushed bytes left unsent): the peer sees a reset,
    /// not a clean end of stream in the middle of a message — as it does when the runtime closes a socket with a receive
    /// still pending.
    /// </summary>
    private void AbortiveClose()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset or closed.
        }
    }

    /// <summary>
    /// On the loop: after a full pipe's flush completed, or after <see cref="Abort"/>. Posted more than once for one
    /// connection at times (Abort while a flush is pending posts, and so does that flush's completion): every run looks
    /// at the state afresh, and what was done is not done again.
    /// </summary>
    void IThreadPoolWorkItem.Execute()
    {
        if (_paused)
        {
            if (!_pendingFlush.IsCompleted)
            {
                return; // its callback posts again
            }
            _paused = false;
            var result = _pendingFlush.GetAwaiter().GetResult();
            _pendingFlush = default;
            if (result.IsCompleted || result.IsCanceled)
            {
                EndInput(null);
            }
        }
        if (Volatile.Read(ref _aborted) != 0)
        {
            try
            {
                EndInput(null);
                _output.OnWritable(); // unwatched: a flush still waiting for room ends here (the sender is failed)
            }
            finally
            {
                if (_token.IsAllocated)
                {
                    _token.Free(); // unwatched before this was posted, and this loop's earlier events are handled
                }
            }
            return;
        }
        if (!_ended)
        {
            ReceiveAvailable();
        }
    }

    /// <summary>
    /// On the loop: reads what the socket holds into the input pipe, whose reader runs inline. Stops at a short read
    /// (edge-triggered: more input is a new event), when the pipe is full (reading goes on once the reader made room),
    /// or at the input's end.
    /// </summary>
    private void ReceiveAvailable()
    {
        var writer = _input.Writer;
        while (true)
        {
            if (Volatile.Read(ref _aborted) != 0)
            {
                EndInput(null);
                return;
            }
            var memory = writer.GetMemory(1);
            int received;
            SocketError error;
            try
            {
                received = _socket.Receive(memory.Span, SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                EndInput(null); // torn down under us
                return;
            }
            if (error == SocketError.WouldBlock)
            {
                return;
            }
            if (error != SocketError.Success || received == 0)
            {
                // Reset, or the peer's FIN; nothing to report when the teardown was ours.
                EndInput(error == SocketError.Success || Volatile.Read(ref _aborted) != 0
                    ? null
                    : new IOException($"Receive failed: {error}.", new SocketException((int)error)));
                return;
            }
            writer.Advance(received);
            var flush = writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                _paused = true;
                _pendingFlush = flush;
                flush.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onFlushed!);
                return;
            }
            var result = flush.GetAwaiter().GetResult();
            if (result.IsCompleted || result.IsCanceled)
            {
                EndInput(null);
                return;
            }
            if (received < memory.Length && !_hangUp)
            {
                return; // the socket is drained; what arrives later raises a new event
            }
        }
    }

    private void EndInput(Exception? error)
    {
        if (_ended)
        {
            return;
        }
        _ended = true;
        try
        {
            _input.Writer.Complete(error);
        }
        finally
        {
            _inputEnded!.TrySetResult();
        }
    }

    /// <summary>
    /// Socket to input pipe (where there are no I/O loops). An idle connection waits with a zero-byte receive, holding no buffer; then reads what
    /// arrived into the pipe's block. Ends at the peer's FIN, a socket error, teardown, or when the reader completes.
    /// </summary>
    private async Task ReceiveLoopAsync()
    {
        await Task.Yield(); // the constructor returns at once; the loop runs on the thread pool
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                var memory = writer.GetMemory(1);
                var received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break; // the peer's FIN
                }
                writer.Advance(received);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (Volatile.Read(ref _aborted) != 0
            || e is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
        {
            // Torn down here: the input simply ends.
        }
        catch (SocketException e)
        {
            error = new IOException($"Receive failed: {e.SocketErrorCode}.", e);
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }
}
