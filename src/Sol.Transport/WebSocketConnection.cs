using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Sol.Transport.Frames;
using Sol.Transport.Sockets;

namespace Sol.Transport;

/// <summary>
/// One open WebSocket connection. Received messages go to <see cref="IWebSocketHandler.OnMessage"/> on the
/// connection's receive loop; sends are queued (thread-safe, never blocking, never throwing) and written by one
/// writer per connection, which writes everything queued and flushes once per batch.
/// </summary>
/// <remarks>
/// Split by concern: this file holds identity and lifetime, <c>WebSocketConnection.Send.cs</c> the outbound queue and
/// its writer, <c>WebSocketConnection.Receive.cs</c> the receive loop and the close handshake.
/// </remarks>
public sealed partial class WebSocketConnection : Connections.IScheduledWriter
{
    private static long s_nextId;

    private readonly TransportConnection _transport;
    private readonly PipeWriter _output;
    private readonly SocketSender? _socketOutput; // the raw kind's output: shared frames go out from their own bytes
    private readonly ArrayPool<byte> _pool;
    private readonly WebSocketServerOptions _options;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _aborted;

    internal WebSocketConnection(TransportConnection transport, object? state, string? subProtocol, WebSocketServerOptions options, ArrayPool<byte> pool, ILogger logger)
    {
        Id = Interlocked.Increment(ref s_nextId);
        _transport = transport;
        _output = transport.Pipe.Output;
        _socketOutput = _output as SocketSender;
        _pool = pool;
        _options = options;
        _logger = logger;
        State = state;
        SubProtocol = subProtocol;
        RemoteEndPoint = transport.RemoteEndPoint;
        _reader = new MessageReader(options.MaxMessageSize, pool);
        _queue = new Connections.SendEntry[InitialQueueCapacity];
        _batch = new Connections.SendEntry[InitialQueueCapacity];
        _onFlushed = OnFlushed;
        _lastReceived = Environment.TickCount64;
    }

    /// <summary>Unique in the process.</summary>
    public long Id { get; }

    /// <summary>The application's state for this connection; the accepting verdict's state to begin with.</summary>
    public object? State { get; set; }

    /// <summary>The negotiated subprotocol (null when none).</summary>
    public string? SubProtocol { get; }

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Completes when the connection is fully gone (socket released, <see cref="IWebSocketHandler.OnClosedAsync"/> returned).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Tears the socket down without a close handshake (timeouts, shutdown).</summary>
    internal void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            try
            {
                _transport.Abort();
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Connection {Id}: abort failed", Id);
            }
        }
    }

    /// <summary>Called by the server's timer: idle pings, idle close, and the deadline of a started close handshake.</summary>
    internal void OnTimer(long now)
    {
        var closeDeadline = Volatile.Read(ref _closeDeadline);
        if (closeDeadline != 0)
        {
            if (now >= closeDeadline)
            {
                Abort();
            }
            return;
        }
        var idle = now - Volatile.Read(ref _lastReceived);
        var idleLimit = (long)_options.IdleTimeout.TotalMilliseconds;
        if (idle < idleLimit / 2)
        {
            return;
        }
        var pingSentAt = Volatile.Read(ref _pingSentAt);
        if (pingSentAt == 0)
        {
            // Also when the whole timeout has passed already (a timer that ran late): the client gets its ping first.
            Volatile.Write(ref _pingSentAt, now);
            QueueControl(Connections.SendEntryKind.Ping, default);
        }
        else if (idle >= idleLimit && now - pingSentAt >= idleLimit / 2)
        {
            Close(WebSocketCloseStatus.EndpointUnavailable, "idle");
        }
    }
}
