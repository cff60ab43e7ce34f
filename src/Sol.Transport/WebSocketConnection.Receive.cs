using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Sol.Transport.Frames;

namespace Sol.Transport;

public sealed partial class WebSocketConnection : IFrameSink
{
    /// <summary>The close status when the connection ended without a close handshake (RFC 6455 §7.1.5: 1006).</summary>
    internal const WebSocketCloseStatus AbnormalClosure = (WebSocketCloseStatus)1006;

    private readonly MessageReader _reader;
    private IWebSocketHandler _handler = null!;
    private long _lastReceived;
    private long _pingSentAt; // Environment.TickCount64 of the unanswered idle ping; 0 when none is outstanding
    private bool _peerGone;
    private WebSocketCloseStatus _peerCloseStatus;

    /// <summary>The connection's life after <c>101</c>: open, receive until closed, close handshake, release, closed (exactly once).</summary>
    internal async Task RunAsync(IWebSocketHandler handler)
    {
        _handler = handler;
        var status = AbnormalClosure;
        try
        {
            if (Sockets.IoLoop.Current is not null)
            {
                await Task.Yield(); // the open hook may wait (a database): off the I/O loop (see IoLoop)
            }
            await handler.OnOpenAsync(this).ConfigureAwait(false);
            status = await ReceiveAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Connection {Id}: failed", Id);
            Close(WebSocketCloseStatus.InternalServerError);
            status = CloseQueued ? CloseSentStatus : AbnormalClosure;
        }
        try
        {
            await FinishAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Connection {Id}: closing failed", Id);
        }
        try
        {
            await handler.OnClosedAsync(this, status).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Connection {Id}: OnClosedAsync failed", Id);
        }
        _completion.TrySetResult();
    }

    /// <summary>
    /// The receive loop: one long async method (each extra async call per message would allocate its state machine);
    /// the synchronous <see cref="MessageReader"/> does the parsing between reads.
    /// </summary>
    private async Task<WebSocketCloseStatus> ReceiveAsync()
    {
        var input = _transport.Pipe.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Connection {Id}: receive failed", Id);
                _peerGone = true;
                return CloseQueued ? CloseSentStatus : AbnormalClosure;
            }
            Volatile.Write(ref _lastReceived, Environment.TickCount64);
            Volatile.Write(ref _pingSentAt, 0);
            var outcome = _reader.Read(result.Buffer, this, out var consumed, out var examined, out var error);
            input.AdvanceTo(consumed, examined);
            if (outcome == ReadOutcome.Failed)
            {
                _logger.LogDebug("Connection {Id}: protocol error, closing with {Status}", Id, error);
                var closedBefore = CloseQueued;
                Close(error);
                return closedBefore ? CloseSentStatus : error;
            }
            if (outcome == ReadOutcome.Closed)
            {
                return _peerCloseStatus;
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                _peerGone = true;
                return CloseQueued ? CloseSentStatus : AbnormalClosure;
            }
        }
    }

    /// <summary>Lets the writer send the close frame, ends the writer, sends FIN, waits for the peer's FIN (bounded), releases everything.</summary>
    private async Task FinishAsync()
    {
        var input = _transport.Pipe.Input;
        var graceful = CloseQueued && !_peerGone && Volatile.Read(ref _aborted) == 0;
        if (graceful && !await WaitForWriterAsync().ConfigureAwait(false))
        {
            graceful = false;
        }
        lock (_sendLock)
        {
            _writerStopped = true;
            _closeQueued = true;
        }
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            _sendDone.TrySetResult(); // no writer running, and none can start now
        }
        else if (!await WaitForWriterAsync().ConfigureAwait(false))
        {
            graceful = false;
        }
        if (graceful)
        {
            await _output.CompleteAsync().ConfigureAwait(false);
            try
            {
                // The peer answers our FIN with its own; the server's timer aborts at the close deadline.
                while (true)
                {
                    var result = await input.ReadAsync().ConfigureAwait(false);
                    input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        break;
                    }
                }
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Connection {Id}: draining after close failed", Id);
            }
        }
        else
        {
            Abort();
            if (_sendDone.Task.IsCompleted)
            {
                await _output.CompleteAsync().ConfigureAwait(false);
            }
            // Else the writer is still inside a write or flush even after the abort (logged by WaitForWriterAsync):
            // completing the output under it would race with it, and so would releasing the transport (which gives the
            // output's memory back): that waits for the writer to stop, below.
        }
        await input.CompleteAsync().ConfigureAwait(false);
        if (_sendDone.Task.IsCompleted)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _ = DisposeTransportWhenWriterStopsAsync();
        }
        ReleaseQueued();
        _reader.Release();
    }

    /// <summary>
    /// The writer did not stop even after the abort (the socket is torn down already): the transport, and with it the
    /// output's memory, is released once the writer has stopped, never under it.
    /// </summary>
    private async Task DisposeTransportWhenWriterStopsAsync()
    {
        try
        {
            await _sendDone.Task.ConfigureAwait(false);
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Connection {Id}: releasing the transport after the writer stopped failed", Id);
        }
    }

    private async Task<bool> WaitForWriterAsync()
    {
        try
        {
            await _sendDone.Task.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            Abort();
            try
            {
                await _sendDone.Task.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogDebug("Connection {Id}: the writer did not stop after the abort", Id);
            }
            return false;
        }
    }

    void IFrameSink.OnMessage(WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
    {
        if (CloseQueued)
        {
            // This side has closed (the application, a limit or a protocol error): what the peer sends until its close
            // frame arrives is read and dropped, never carried out (a logged-out or rate-limited client's messages).
            return;
        }
        try
        {
            _handler.OnMessage(this, kind, payload);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Connection {Id}: OnMessage failed, closing with 1011", Id);
            Close(WebSocketCloseStatus.InternalServerError);
        }
    }

    void IFrameSink.OnPing(ReadOnlySpan<byte> payload) => QueueControl(Connections.SendEntryKind.Pong, payload);

    void IFrameSink.OnPong(ReadOnlySpan<byte> payload)
    {
    }

    void IFrameSink.OnClose(int code, ReadOnlySpan<byte> reason)
    {
        var status = code < 0 ? WebSocketCloseStatus.Empty : (WebSocketCloseStatus)code;
        var weClosedFirst = CloseQueued;
        _peerCloseStatus = weClosedFirst ? CloseSentStatus : status;
        if (!weClosedFirst)
        {
            Close(status); // echo the peer's code (RFC 6455 §5.5.1)
        }
    }
}
