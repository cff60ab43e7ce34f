namespace Sol.Transport;

/// <summary>The handler's answer to an upgrade request: accept (with the connection's first state) or reject with an HTTP status.</summary>
/// <param name="Accepted">True to answer <c>101 Switching Protocols</c>.</param>
/// <param name="State">The new connection's <see cref="WebSocketConnection.State"/> when accepted.</param>
/// <param name="Status">The HTTP status of a rejection (e.g. 401).</param>
/// <param name="Reason">The text/plain body of a rejection.</param>
public readonly record struct UpgradeVerdict(bool Accepted, object? State, int Status, string? Reason)
{
    /// <summary>Accepts the upgrade; <paramref name="state"/> becomes the connection's <see cref="WebSocketConnection.State"/>.</summary>
    public static UpgradeVerdict Accept(object? state = null) => new(true, state, 101, null);

    /// <summary>Rejects the upgrade: written as an HTTP response (text/plain <paramref name="reason"/>), then the socket is closed.</summary>
    public static UpgradeVerdict Reject(int status, string reason) => new(false, null, status, reason);
}
