using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Sol.Transport.Tests.Support;

/// <summary>A handler that echoes every message (unless told not to) and records what happened.</summary>
public sealed class RecordingHandler : IWebSocketHandler
{
    public bool Echo { get; init; } = true;

    public Func<UpgradeRequest, UpgradeVerdict>? Upgrade { get; init; }

    /// <summary>Runs in <see cref="OnOpenAsync"/> (a test's hook may throw there).</summary>
    public Action<WebSocketConnection>? Open { get; init; }

    public ConcurrentQueue<UpgradeRequest> Upgrades { get; } = new();

    public ConcurrentQueue<WebSocketConnection> Opened { get; } = new();

    public ConcurrentQueue<(WebSocketMessageKind Kind, byte[] Payload)> Messages { get; } = new();

    public ConcurrentQueue<(WebSocketConnection Connection, WebSocketCloseStatus Status)> Closed { get; } = new();

    /// <summary>Each hook call in order, with whether it ran on one of the raw kind's I/O loops.</summary>
    public ConcurrentQueue<(string Hook, bool OnIoLoop)> Threads { get; } = new();

    public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request)
    {
        Threads.Enqueue(("upgrade", Sockets.IoLoop.Current is not null));
        Upgrades.Enqueue(request);
        return ValueTask.FromResult(Upgrade?.Invoke(request) ?? UpgradeVerdict.Accept("state"));
    }

    public ValueTask OnOpenAsync(WebSocketConnection connection)
    {
        Threads.Enqueue(("open", Sockets.IoLoop.Current is not null));
        Opened.Enqueue(connection);
        Open?.Invoke(connection);
        return ValueTask.CompletedTask;
    }

    public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
    {
        Threads.Enqueue(("message", Sockets.IoLoop.Current is not null));
        var bytes = payload.ToArray();
        Messages.Enqueue((kind, bytes));
        if (Echo)
        {
            connection.Send(bytes, kind);
        }
    }

    public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status)
    {
        Closed.Enqueue((connection, status));
        return ValueTask.CompletedTask;
    }
}
