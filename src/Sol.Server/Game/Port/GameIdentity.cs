namespace Sol.Server.Game.Port;

/// <summary>
/// What the handshake proved: the account and session from the token, its expiry, and the client id the client asked
/// to resume (null for a fresh connection).
/// </summary>
public sealed record GameIdentity(Guid AccountId, Guid SessionId, DateTimeOffset ExpiresAt, string? ResumeClientId);
