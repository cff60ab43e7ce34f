namespace Sol.Server.Auth;

/// <summary>
/// The outcome of validating a token: who, which session, until when, and when its session began (its first login,
/// kept through refreshes); or why not.
/// </summary>
public readonly record struct TokenCheck(bool Valid, Guid AccountId, Guid SessionId, DateTimeOffset ExpiresAt, string? Error, DateTimeOffset AuthTime = default)
{
    public static TokenCheck Fail(string error) => new(false, Guid.Empty, Guid.Empty, default, error);
}
