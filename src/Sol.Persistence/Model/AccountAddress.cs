namespace Sol.Persistence.Model;

/// <summary>An address an account was used from (a key the server made of it), and when last.</summary>
public readonly record struct AccountAddress(string Address, DateTimeOffset SeenAt);
