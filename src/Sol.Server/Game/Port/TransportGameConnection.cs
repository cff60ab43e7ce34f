using System.Net.WebSockets;
using Sol.Transport;

namespace Sol.Server.Game.Port;

/// <summary>The game's view of one <see cref="WebSocketConnection"/>: reliable sends, and a tick (shared snapshot +
/// the client's own ack) that replaces an unsent older tick.</summary>
internal sealed class TransportGameConnection(WebSocketConnection connection, GameIdentity identity) : IGameConnection
{
    public long Id => connection.Id;

    public GameIdentity Identity { get; } = identity;

    public string Protocol => connection.SubProtocol ?? "";

    public WebSocketConnection Socket => connection;

    public void SendReliable(ReadOnlySpan<byte> message) => connection.Send(message);

    public void SendTick(SharedMessage snapshot, ReadOnlySpan<byte> ack, bool keep = false)
    {
        if (snapshot is not TransportSharedMessage shared)
        {
            throw new ArgumentException("the snapshot was not shared by this port", nameof(snapshot));
        }
        if (keep)
        {
            // Reliable entries are never replaced; a later SendLatest queues after them.
            connection.Send(shared.Frame);
            connection.Send(ack);
        }
        else
        {
            connection.SendLatest(shared.Frame, ack);
        }
    }

    public void Close(WebSocketCloseStatus status, string reason) => connection.Close(status, reason);
}
