namespace Sol.Server.Http;

/// <summary>Body of register and login.</summary>
internal sealed record CredentialsRequest(string? Username, string? Password);
