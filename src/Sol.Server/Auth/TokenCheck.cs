namespace Sol.Server.Auth;

/// <summary>The outcome of validating a token: who, which session, until when; or why not.</summary>
public readonly record struct TokenCheck(bool Valid, Guid AccountId, Guid SessionId, DateTimeOffset ExpiresAt, string? Error)
{
    public static TokenCheck Fail(string error) => new(false, Guid.Empty, Guid.Empty, default, error);
}
