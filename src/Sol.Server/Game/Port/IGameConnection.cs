using System.Net.WebSockets;

namespace Sol.Server.Game.Port;

/// <summary>
/// One authenticated game client as the game sees it, whatever carries it. Sends never block and never throw:
/// they queue, and a client that cannot keep up is closed (reliable queue overflow: 1008) or skips ticks (a newer
/// snapshot replaces one not yet sent).
/// </summary>
public interface IGameConnection
{
    /// <summary>Unique per connection in this process.</summary>
    long Id { get; }

    /// <summary>Who the handshake authenticated.</summary>
    GameIdentity Identity { get; }

    /// <summary>The negotiated subprotocol (e.g. <c>sol.v1</c>).</summary>
    string Protocol { get; }

    /// <summary>Queues a message that must arrive, in order (Welcome, ZoneEnter, PlayerState, ColonyInfo, Pong, Error).</summary>
    void SendReliable(ReadOnlySpan<byte> message);

    /// <summary>
    /// Queues this tick's shared snapshot and the client's own ack, written together in one flush. A later tick replaces
    /// it while it is unsent, unless <paramref name="keep"/>: the tick carries an event the client must not miss (a ship
    /// destroyed), so it stays in the queue in order, as a reliable message does.
    /// </summary>
    void SendTick(SharedMessage snapshot, ReadOnlySpan<byte> ack, bool keep = false);

    /// <summary>Starts the close handshake with <paramref name="status"/>; further sends are dropped.</summary>
    void Close(WebSocketCloseStatus status, string reason);
}
