namespace Sol.Server.Http;

/// <summary>What every auth endpoint answers.</summary>
internal sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt, Guid PlayerId);
