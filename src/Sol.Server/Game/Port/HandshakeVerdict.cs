namespace Sol.Server.Game.Port;

/// <summary>The game's answer to an upgrade request: accept with an identity, or refuse with an HTTP status and reason.</summary>
public readonly record struct HandshakeVerdict(GameIdentity? Identity, int Status, string? Reason)
{
    public static HandshakeVerdict Accept(GameIdentity identity) => new(identity, 101, null);

    public static HandshakeVerdict Refuse(int status, string reason) => new(null, status, reason);
}
