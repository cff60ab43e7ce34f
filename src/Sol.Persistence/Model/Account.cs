namespace Sol.Persistence.Model;

/// <summary>A login. <see cref="PasswordHash"/> is null for device (guest) accounts.</summary>
public sealed record Account(Guid Id, string Username, string? PasswordHash, DateTimeOffset CreatedAt);
