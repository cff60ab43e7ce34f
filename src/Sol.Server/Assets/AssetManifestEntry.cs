namespace Sol.Server.Assets;

/// <summary>A line of <c>GET /api/assets</c>.</summary>
public sealed record AssetManifestEntry(string Name, string Sha256, long Size, string Url);
