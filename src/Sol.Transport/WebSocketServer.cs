using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Transport.Connections;
using Sol.Transport.Handshake;
using Sol.Transport.Sockets;

namespace Sol.Transport;

/// <summary>
/// A WebSocket server on raw sockets: accepts TCP connections (Pipelines.Sockets.Unofficial or Kestrel's socket
/// transport), checks the HTTP/1.1 upgrade strictly, asks the handler, and runs each accepted connection.
/// </summary>
public sealed class WebSocketServer : IAsyncDisposable
{
    private readonly WebSocketServerOptions _options;
    private readonly IWebSocketHandler _handler;
    private readonly ILogger _logger;
    private readonly ArrayPool<byte> _pool;
    private readonly ISocketListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SlotTable<WebSocketConnection> _connections = new();
    private readonly ConcurrentDictionary<TransportConnection, Task> _running = new();
    private readonly Timer _timer;
    private readonly Lock _stopLock = new();
    private Task? _acceptLoop;
    private Task? _stopTask;
    private int _reserved;
    private int _open;
    private int _handshaking;
    private long _refusedFull;
    private long _refusedLogged; // _refusedFull when the last warning was logged
    private long _refusedLoggedAt; // its Environment.TickCount64; 0: never
    private ILogger? _loopLogger;

    private WebSocketServer(WebSocketServerOptions options, IWebSocketHandler handler, ILogger logger, ISocketListener listener)
    {
        _options = options;
        _handler = handler;
        _logger = logger;
        _listener = listener;
        _pool = options.BufferPool ?? ArrayPool<byte>.Shared;
        var smallest = Math.Min(options.IdleTimeout.TotalMilliseconds / 4, options.CloseTimeout.TotalMilliseconds / 4);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(smallest, 10, 1000));
        _timer = new Timer(static state => ((WebSocketServer)state!).OnTimer(), this, period, period);
    }

    /// <summary>The bound address, with the real port when port 0 was asked for.</summary>
    public System.Net.IPEndPoint Endpoint => _listener.Endpoint;

    /// <summary>Open WebSocket connections (after <c>101</c>, until gone).</summary>
    public int Connections => Volatile.Read(ref _open);

    /// <summary>Accepted sockets whose handshake is under way.</summary>
    public int PendingHandshakes => Volatile.Read(ref _handshaking);

    /// <summary>
    /// Connections refused for want of room since start: upgrades answered 503 at
    /// <see cref="WebSocketServerOptions.MaxConnections"/>, and sockets closed at once over
    /// <see cref="WebSocketServerOptions.MaxPendingHandshakes"/>. The first of a burst is logged as a warning, then at most
    /// one line every 10 s with the count.
    /// </summary>
    public long RefusedForRoom => Interlocked.Read(ref _refusedFull);

    /// <summary>
    /// Threads that read raw-kind sockets and drain their sends (Linux; one per core unless set here or by
    /// <c>SOL_IO_THREADS</c>; 0: the runtime's socket engine and the thread pool instead). Process-wide: set it before
    /// the first raw-kind server starts; afterwards only the same number is accepted.
    /// </summary>
    public static void SetIoThreads(int count) => IoLoop.Configure(count);

    /// <summary>The raw kind reads on I/O loops of its own here (Linux on x64 or Arm64, and not turned off).</summary>
    public static bool HasIoLoops => IoLoop.IsSupported;

    /// <summary>
    /// I/O loops that have an io_uring for batched sends (<see cref="WebSocketServerOptions.RingSends"/>); 0 where
    /// io_uring is missing or refused (kernel before 5.x, a seccomp filter, <c>kernel.io_uring_disabled</c>), or with no
    /// loops. Starts the loops if they are not running.
    /// </summary>
    public static int IoRings => IoLoop.IsSupported ? IoLoop.Rings : 0;

    /// <summary>Binds and starts accepting. An address in use fails with an <see cref="IOException"/> that names it.</summary>
    public static async Task<WebSocketServer> StartAsync(WebSocketServerOptions options, IWebSocketHandler handler,
        ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        if (options.MaxPendingHandshakes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxPendingHandshakes, "MaxPendingHandshakes must be at least 1.");
        }
        loggers ??= NullLoggerFactory.Instance;
        ISocketListener listener;
        try
        {
            listener = options.Sockets switch
            {
                SocketTransportKind.Kestrel => await KestrelSocketListener.BindAsync(options.Endpoint, loggers, cancellationToken).ConfigureAwait(false),
                SocketTransportKind.Raw => RawSocketListener.Bind(options.Endpoint, ringSends: options.RingSends),
                SocketTransportKind.Pipelines => PipelinesSocketListener.Bind(options.Endpoint),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Sockets, "Unknown socket kind."),
            };
        }
        catch (Exception e) when (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } or AddressInUseException)
        {
            throw new IOException($"Cannot listen on {options.Endpoint}: the address is already in use.", e);
        }
        var server = new WebSocketServer(options, handler, loggers.CreateLogger("Sol.Transport"), listener);
        if (options.Sockets == SocketTransportKind.Raw && loggers is not NullLoggerFactory)
        {
            // The loops are per process: they log through the latest raw-kind server's logger, until it stops.
            server._loopLogger = loggers.CreateLogger("Sol.Transport.IoLoop");
            IoLoop.UseLogger(server._loopLogger);
        }
        server._acceptLoop = Task.Run(server.AcceptLoopAsync, CancellationToken.None);
        return server;
    }

    /// <summary>Stops accepting, sends close 1001 to every client, waits up to <paramref name="timeout"/>, then aborts the rest.</summary>
    public Task StopAsync(TimeSpan timeout)
    {
        lock (_stopLock)
        {
            return _stopTask ??= StopCoreAsync(timeout);
        }
    }

    /// <summary>Stops with a 5 second grace period.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    private async Task StopCoreAsync(TimeSpan timeout)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        foreach (var connection in _connections)
        {
            connection.Close(WebSocketCloseStatus.EndpointUnavailable, "server stopping");
        }
        var all = Task.WhenAll(_running.Values);
        try
        {
            await all.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var connection in _connections)
            {
                connection.Abort();
            }
            foreach (var pair in _running)
            {
                pair.Key.Abort();
            }
            try
            {
                await all.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _logger.LogWarning("{Count} connections did not end after being aborted", _running.Count);
            }
        }
        await _timer.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        if (_loopLogger is not null)
        {
            IoLoop.ForgetLogger(_loopLogger);
        }
    }

    /// <summary>Counts a connection refused for want of room, and warns about it: the first of a burst, then at most once
    /// every 10 s, with the count since the line before (each was a debug line only, and an operator saw nothing). A
    /// burst's last refusals are told by the next line, whenever that comes; <see cref="RefusedForRoom"/> has them all.</summary>
    private void RefusedForWantOfRoom(bool handshakes, int limit)
    {
        var count = Interlocked.Increment(ref _refusedFull);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _refusedLoggedAt);
        if ((last != 0 && now - last < 10_000) || Interlocked.CompareExchange(ref _refusedLoggedAt, now, last) != last)
        {
            return;
        }
        var since = count - Interlocked.Exchange(ref _refusedLogged, count);
        if (handshakes)
        {
            _logger.LogWarning("Closing new sockets at once: {Limit} handshakes are under way, the limit; {Count} refused for want of room since the last such line (one at most every 10 s)", limit, since);
        }
        else
        {
            _logger.LogWarning("Refusing connections with 503: {Limit} are open, the limit; {Count} refused for want of room since the last such line (one at most every 10 s)", limit, since);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            TransportConnection? accepted;
            try
            {
                accepted = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Accept failed");
                continue;
            }
            if (accepted is null)
            {
                return;
            }
            var task = RunConnectionAsync(accepted);
            _running[accepted] = task;
            _ = task.ContinueWith(static (_, state) =>
            {
                var (server, connection) = ((WebSocketServer, TransportConnection))state!;
                server._running.TryRemove(connection, out var _);
            }, (this, accepted), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task RunConnectionAsync(TransportConnection transport)
    {
        await Task.Yield();
        var reserved = false;
        var handshaking = true; // counted in _handshaking until the handshake is over
        try
        {
            if (Interlocked.Increment(ref _handshaking) > _options.MaxPendingHandshakes)
            {
                RefusedForWantOfRoom(handshakes: true, _options.MaxPendingHandshakes);
                await CloseTransportAsync(transport, graceful: false).ConfigureAwait(false);
                return;
            }
            var outcome = await HandshakeAsync(transport).ConfigureAwait(false);
            Interlocked.Decrement(ref _handshaking);
            handshaking = false;
            if (outcome is null)
            {
                return; // handshake failed and was answered (or timed out)
            }
            reserved = true;
            var (state, subProtocol) = outcome.Value;
            var connection = new WebSocketConnection(transport, state, subProtocol, _options, _pool, _logger);
            var slot = _connections.Add(connection);
            Interlocked.Increment(ref _open);
            try
            {
                if (_stopping.IsCancellationRequested)
                {
                    connection.Close(WebSocketCloseStatus.EndpointUnavailable, "server stopping");
                }
                await connection.RunAsync(_handler).ConfigureAwait(false);
            }
            finally
            {
                _connections.Remove(slot);
                Interlocked.Decrement(ref _open);
            }
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Connection failed");
            transport.Abort();
            try
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception disposeError)
            {
                _logger.LogDebug(disposeError, "Releasing a failed connection failed");
            }
        }
        finally
        {
            if (reserved)
            {
                Interlocked.Decrement(ref _reserved);
            }
            if (handshaking)
            {
                Interlocked.Decrement(ref _handshaking); // refused, or the handshake threw
            }
        }
    }

    /// <summary>Reads and checks the upgrade request; answers 101 (returning the verdict's state) or a rejection (returning null).</summary>
    private async Task<(object? State, string? SubProtocol)?> HandshakeAsync(TransportConnection transport)
    {
        var input = transport.Pipe.Input;
        var output = transport.Pipe.Output;
        RequestHead? head = null;
        HandshakeRejection? rejection = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            timeout.CancelAfter(_options.HandshakeTimeout);
            try
            {
                while (head is null && rejection is null)
                {
                    var result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                    var buffer = result.Buffer;
                    switch (RequestHeadReader.Scan(buffer, _options.MaxHeaderBytes, out var end))
                    {
                        case HeadScan.Complete:
                            var bytes = buffer.Slice(0, end).ToArray();
                            head = new RequestHeadReader(bytes).Read();
                            input.AdvanceTo(end);
                            rejection = head is null ? new HandshakeRejection(400, "Malformed HTTP request.") : null;
                            break;
                        case HeadScan.TooLarge:
                            input.AdvanceTo(buffer.Start, buffer.End);
                            rejection = new HandshakeRejection(431, "Request header fields too large.");
                            break;
                        default:
                            input.AdvanceTo(buffer.Start, buffer.End);
                            if (result.IsCompleted)
                            {
                                await CloseTransportAsync(transport, graceful: false).ConfigureAwait(false);
                                return null;
                            }
                            break;
                    }
                }
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Handshake did not complete in time, or the socket failed");
                await CloseTransportAsync(transport, graceful: false).ConfigureAwait(false);
                return null;
            }
        }

        string? subProtocol = null;
        object? state = null;
        if (rejection is null)
        {
            rejection = UpgradeChecks.Check(head!, _options, out var path, out var query, out subProtocol);
            if (rejection is null)
            {
                if (Interlocked.Increment(ref _reserved) > _options.MaxConnections)
                {
                    Interlocked.Decrement(ref _reserved);
                    RefusedForWantOfRoom(handshakes: false, _options.MaxConnections);
                    rejection = new HandshakeRejection(503, "The server is full.");
                }
                else
                {
                    var verdict = await AskHandlerAsync(new UpgradeRequest(path, query, head!.Headers, subProtocol, transport.RemoteEndPoint)).ConfigureAwait(false);
                    if (verdict.Accepted)
                    {
                        state = verdict.State;
                    }
                    else
                    {
                        Interlocked.Decrement(ref _reserved);
                        rejection = new HandshakeRejection(verdict.Status is >= 400 and <= 599 ? verdict.Status : 403, verdict.Reason ?? "Rejected.");
                    }
                }
            }
        }

        if (rejection is { } refused)
        {
            _logger.LogDebug("Upgrade refused: {Status} {Reason}", refused.Status, refused.Reason);
            try
            {
                HandshakeResponses.WriteRejection(output, refused.Status, refused.Reason);
                await output.FlushAsync().ConfigureAwait(false);
                await CloseTransportAsync(transport, graceful: true).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogDebug(e, "Writing the rejection failed");
                await CloseTransportAsync(transport, graceful: false).ConfigureAwait(false);
            }
            return null;
        }

        try
        {
            HandshakeResponses.WriteSwitchingProtocols(output, head!["Sec-WebSocket-Key"]!.Trim(), subProtocol);
            await output.FlushAsync().ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _reserved); // the slot was taken for this handshake
            throw;
        }
        return (state, subProtocol);
    }

    private async ValueTask<UpgradeVerdict> AskHandlerAsync(UpgradeRequest request)
    {
        if (IoLoop.Current is not null)
        {
            // The upgrade and open hooks may wait on a database or a lock: not on an I/O loop, which serves every socket
            // on it. Once per connection; its messages come back to the loop.
            await Task.Yield();
        }
        try
        {
            return await _handler.OnUpgradeAsync(request).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "OnUpgradeAsync failed");
            return UpgradeVerdict.Reject(500, "Internal server error.");
        }
    }

    /// <summary>Closes a connection that never became a WebSocket: FIN after what was written (graceful), or abort.</summary>
    private async Task CloseTransportAsync(TransportConnection transport, bool graceful)
    {
        var pipe = transport.Pipe;
        if (!graceful)
        {
            transport.Abort();
        }
        await pipe.Output.CompleteAsync().ConfigureAwait(false);
        if (graceful)
        {
            // Wait (bounded) for the client to close its side, so the response is not cut off by a reset.
            using var linger = new CancellationTokenSource(_options.CloseTimeout);
            try
            {
                while (true)
                {
                    var result = await pipe.Input.ReadAsync(linger.Token).ConfigureAwait(false);
                    pipe.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        break;
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException or ConnectionAbortedException)
            {
                transport.Abort();
            }
        }
        await pipe.Input.CompleteAsync().ConfigureAwait(false);
        await transport.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The timer's tick: each connection's idle and close deadlines. Allocates nothing.</summary>
    internal void OnTimer()
    {
        var now = Environment.TickCount64;
        foreach (var connection in _connections)
        {
            connection.OnTimer(now);
        }
    }
}
