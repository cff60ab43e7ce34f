using System.Buffers;
using System.Net.WebSockets;
using Sol.Transport;

namespace Sol.Bench.Transport;

/// <summary>
/// The roles of <see cref="IBenchServer"/> on Sol.Transport: echo with <see cref="WebSocketConnection.Send(ReadOnlySpan{byte}, WebSocketMessageKind)"/>,
/// broadcast by framing once (<see cref="SharedFrame"/>) and queueing the same frame on every subscriber.
/// </summary>
public sealed class SolBenchHandler : IWebSocketHandler
{
    private static readonly object s_publisher = new();
    private static readonly object s_subscriber = new();

    private readonly CopyOnWriteList<WebSocketConnection> _subscribers = new();

    public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) =>
        ValueTask.FromResult(UpgradeVerdict.Accept(request.Query("role") switch
        {
            "pub" => s_publisher,
            "sub" => s_subscriber,
            _ => null,
        }));

    public ValueTask OnOpenAsync(WebSocketConnection connection)
    {
        if (connection.State == s_subscriber)
        {
            _subscribers.Add(connection);
        }
        return ValueTask.CompletedTask;
    }

    public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
    {
        if (connection.State == s_subscriber)
        {
            return;
        }
        byte[]? rented = null;
        var span = payload.IsSingleSegment ? payload.FirstSpan : Copy(payload, out rented);
        if (connection.State == s_publisher)
        {
            var frame = SharedFrame.Create(span, kind);
            foreach (var subscriber in _subscribers.Items)
            {
                subscriber.Send(frame);
            }
            frame.Release();
        }
        else
        {
            connection.Send(span, kind);
        }
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status)
    {
        if (connection.State == s_subscriber)
        {
            _subscribers.Remove(connection);
        }
        return ValueTask.CompletedTask;
    }

    private static ReadOnlySpan<byte> Copy(in ReadOnlySequence<byte> payload, out byte[] rented)
    {
        rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        payload.CopyTo(rented);
        return rented.AsSpan(0, (int)payload.Length);
    }
}
