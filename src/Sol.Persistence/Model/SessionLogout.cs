namespace Sol.Persistence.Model;

/// <summary>A login session (a token's <c>sid</c>) that logged out: its tokens are refused until <paramref name="Until"/>.</summary>
public readonly record struct SessionLogout(Guid SessionId, DateTimeOffset Until);
