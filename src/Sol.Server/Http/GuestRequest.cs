namespace Sol.Server.Http;

/// <summary>Body of guest login.</summary>
internal sealed record GuestRequest(string? DeviceId);
