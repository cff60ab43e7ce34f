using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Sol.Server.Game.Port;

/// <summary>
/// A game connection over ASP.NET Core's WebSocket: a receive loop that hands whole binary messages to the game, and
/// a send loop that drains an ordered queue. A tick (snapshot + ack) replaces the previous tick if that one is still
/// the last thing queued and was not sent as kept (a slow client skips ticks instead of buffering them); reliable messages over
/// <see cref="MaxReliableQueue"/> close the connection with 1008.
/// </summary>
internal sealed class AspNetGameConnection : IGameConnection, IDisposable
{
    public const int MaxReliableQueue = 256;

    /// <summary>How long a client has to answer the server's close frame before the connection is dropped.</summary>
    public static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly IGameHandler _handler;
    private readonly int _maxMessage;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private OutgoingQueue<Outgoing> _queue = new(16);
    private readonly SemaphoreSlim _ready = new(0, int.MaxValue);
    private readonly CancellationTokenSource _receive = new();
    private int _reliableQueued;
    private bool _closing;
    private WebSocketCloseStatus _closeStatus;
    private string _closeReason = "";

    public AspNetGameConnection(long id, WebSocket socket, GameIdentity identity, string protocol, IGameHandler handler, int maxMessage, ILogger log)
    {
        Id = id;
        _socket = socket;
        Identity = identity;
        Protocol = protocol;
        _handler = handler;
        _maxMessage = maxMessage;
        _log = log;
    }

    public long Id { get; }

    public GameIdentity Identity { get; }

    public string Protocol { get; }

    public void SendReliable(ReadOnlySpan<byte> message)
    {
        var copy = ArrayPool<byte>.Shared.Rent(message.Length);
        message.CopyTo(copy);
        lock (_gate)
        {
            if (_closing)
            {
                ArrayPool<byte>.Shared.Return(copy);
                return;
            }
            if (_reliableQueued >= MaxReliableQueue)
            {
                ArrayPool<byte>.Shared.Return(copy);
                CloseLocked(WebSocketCloseStatus.PolicyViolation, "send queue full: the client does not read");
                return;
            }
            _reliableQueued++;
            _queue.Enqueue(new Outgoing(copy, message.Length, null, null, 0));
        }
        _ready.Release();
    }

    public void SendTick(SharedMessage snapshot, ReadOnlySpan<byte> ack, bool keep = false)
    {
        if (snapshot is not PooledSharedMessage pooled)
        {
            throw new ArgumentException("the snapshot was not shared by this port", nameof(snapshot));
        }
        pooled.AddReference();
        var ackCopy = ArrayPool<byte>.Shared.Rent(ack.Length);
        ack.CopyTo(ackCopy);
        Outgoing? replaced = null;
        lock (_gate)
        {
            if (_closing)
            {
                pooled.Release();
                ArrayPool<byte>.Shared.Return(ackCopy);
                return;
            }
            if (_queue.Count > 0 && _queue.Last.Snapshot is not null && !_queue.Last.Kept)
            {
                replaced = _queue.Last;
                _queue.Last = new Outgoing(null, 0, pooled, ackCopy, ack.Length, keep);
            }
            else
            {
                _queue.Enqueue(new Outgoing(null, 0, pooled, ackCopy, ack.Length, keep));
            }
        }
        if (replaced is { } old)
        {
            old.Release();
        }
        else
        {
            _ready.Release();
        }
    }

    public void Close(WebSocketCloseStatus status, string reason)
    {
        lock (_gate)
        {
            CloseLocked(status, reason);
        }
    }

    /// <summary>Runs both loops until the socket closes; then tells the game.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        await _handler.OnConnectedAsync(this).ConfigureAwait(false);
        var sending = SendLoopAsync();
        using var stop = stopping.Register(static c => ((CancellationTokenSource)c!).Cancel(), _receive);
        try
        {
            await ReceiveLoopAsync(_receive.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            _log.LogDebug("connection {Id} ended: {Reason}", Id, e.Message);
        }
        finally
        {
            Close(WebSocketCloseStatus.NormalClosure, "");
            await sending.ConfigureAwait(false);
            await _handler.OnClosedAsync(this).ConfigureAwait(false);
            DrainQueue();
        }
    }

    public void Dispose()
    {
        _ready.Dispose();
        _receive.Dispose();
    }

    private async Task ReceiveLoopAsync(CancellationToken stopping)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_maxMessage);
        try
        {
            while (true)
            {
                var filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (filled == buffer.Length)
                    {
                        Close(WebSocketCloseStatus.MessageTooBig, $"messages are limited to {_maxMessage} bytes");
                        return;
                    }
                    result = await _socket.ReceiveAsync(buffer.AsMemory(filled), stopping).ConfigureAwait(false);
                    filled += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    Close(WebSocketCloseStatus.InvalidMessageType, "the game protocol is binary");
                    return;
                }
                if (IsClosing)
                {
                    return; // closed by the game meanwhile (a kick, a limit): not carried out
                }
                _handler.OnMessage(this, new ReadOnlySequence<byte>(buffer, 0, filled));
                if (IsClosing)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private bool IsClosing
    {
        get
        {
            lock (_gate)
            {
                return _closing;
            }
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                await _ready.WaitAsync().ConfigureAwait(false);
                Outgoing item;
                bool closing;
                lock (_gate)
                {
                    closing = _closing;
                    if (!_queue.TryDequeue(out item))
                    {
                        if (closing)
                        {
                            break;
                        }
                        continue;
                    }
                    if (item.Reliable is not null)
                    {
                        _reliableQueued--;
                    }
                }
                try
                {
                    if (item.Reliable is { } bytes)
                    {
                        await _socket.SendAsync(bytes.AsMemory(0, item.Length), WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
                    }
                    else
                    {
                        await _socket.SendAsync(item.Snapshot!.Payload, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
                        await _socket.SendAsync(item.Ack.AsMemory(0, item.AckLength), WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
                    }
                }
                finally
                {
                    item.Release();
                }
                if (closing)
                {
                    // Closing: flush what was queued before the close, then stop.
                    continue;
                }
            }
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, timeout.Token).ConfigureAwait(false);
            }
            // A client that does not answer our close within the grace period is cut off (the receive loop ends).
            _receive.CancelAfter(CloseGrace);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _log.LogDebug("connection {Id} send loop ended: {Reason}", Id, e.Message);
            Close(WebSocketCloseStatus.EndpointUnavailable, "");
            _socket.Abort();
        }
    }

    private void CloseLocked(WebSocketCloseStatus status, string reason)
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        _closeStatus = status;
        _closeReason = reason;
        _ready.Release();
    }

    private void DrainQueue()
    {
        lock (_gate)
        {
            while (_queue.TryDequeue(out var item))
            {
                item.Release();
            }
        }
    }

    /// <summary>A reliable message, or a tick (snapshot + ack) that a later tick may replace unless <see cref="Kept"/>.</summary>
    private readonly record struct Outgoing(byte[]? Reliable, int Length, PooledSharedMessage? Snapshot, byte[]? Ack, int AckLength, bool Kept = false)
    {
        public void Release()
        {
            if (Reliable is not null)
            {
                ArrayPool<byte>.Shared.Return(Reliable);
            }
            Snapshot?.Release();
            if (Ack is not null)
            {
                ArrayPool<byte>.Shared.Return(Ack);
            }
        }
    }
}
