namespace Sol.Server.Http;

/// <summary>Body of every HTTP error.</summary>
internal sealed record ErrorResponse(string Error);
