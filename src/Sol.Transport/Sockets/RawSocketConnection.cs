using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Sol.Transport.Sockets;

/// <summary>One accepted socket of the raw kind: input pipe filled by <see cref="ReceiveLoopAsync"/>, output <see cref="SocketSender"/>.</summary>
internal sealed class RawSocketConnection : TransportConnection, IDuplexPipe
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

    public RawSocketConnection(Socket socket, BlockMemoryPool sendBlocks)
    {
        _socket = socket;
        _output = new SocketSender(socket, sendBlocks);
        RemoteEndPoint = socket.RemoteEndPoint;
        _receiving = ReceiveLoopAsync();
    }

    public override IDuplexPipe Pipe => this;

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output;

    public override EndPoint? RemoteEndPoint { get; }

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            _output.Fail();
            _socket.Dispose();
            _input.Writer.CancelPendingFlush(); // a receive loop waiting for the reader to make room ends too
        }
    }

    /// <summary>Tears the socket down, waits for the receive loop to end and gives the send blocks back.</summary>
    public override async ValueTask DisposeAsync()
    {
        Abort();
        await _receiving.ConfigureAwait(false);
        _output.Complete();
    }

    /// <summary>
    /// Socket to input pipe. An idle connection waits with a zero-byte receive, holding no buffer; then reads what
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
