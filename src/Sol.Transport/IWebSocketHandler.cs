using System.Buffers;
using System.Net.WebSockets;

namespace Sol.Transport;

/// <summary>The application's side of the server: decides upgrades and receives messages and lifecycle events.</summary>
/// <remarks>
/// With the raw socket kind on Linux, <see cref="OnMessage"/> (and <see cref="OnClosedAsync"/>'s synchronous part, when
/// the connection ends on a read) run on an I/O loop thread that serves many sockets: they must not block — queue the
/// work, or start it asynchronously and return. <see cref="OnUpgradeAsync"/> and <see cref="OnOpenAsync"/> are called
/// off the loops and may wait.
/// </remarks>
public interface IWebSocketHandler
{
    /// <summary>Called before <c>101</c>, after the protocol checks passed: accept or reject (e.g. 401 for a bad token).</summary>
    ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request);

    /// <summary>Called after <c>101</c> was sent, before the first message is read.</summary>
    ValueTask OnOpenAsync(WebSocketConnection connection);

    /// <summary>
    /// One complete message (fragments joined), on the connection's receive loop, one at a time per connection. The
    /// sequence is only valid during the call (it is the pipe's own memory when the payload arrived contiguous).
    /// </summary>
    void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload);

    /// <summary>Called exactly once per opened connection, when it is gone, with the close status it ended with.</summary>
    ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status);
}
