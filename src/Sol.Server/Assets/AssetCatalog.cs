using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;

namespace Sol.Server.Assets;

/// <summary>
/// The game's asset files, read once at start-up: bytes, SHA-256, size and content type per file, and the manifest
/// (<c>GET /api/assets</c>) whose URLs carry the hash (<c>/assets/ships.json?v=HASH</c>), so a client caches each
/// file forever and fetches again only when the hash changes.
/// </summary>
public sealed class AssetCatalog
{
    private readonly FrozenDictionary<string, Asset> _assets;

    private AssetCatalog(FrozenDictionary<string, Asset> assets)
    {
        _assets = assets;
        Manifest = [.. assets.Values.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => new AssetManifestEntry(a.Name, a.Sha256, a.Bytes.Length, a.Url))];
    }

    public IReadOnlyList<AssetManifestEntry> Manifest { get; }

    public static AssetCatalog Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"the assets folder {directory} does not exist");
        }
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(directory, path).Replace('\\', '/');
            var bytes = File.ReadAllBytes(path);
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            var type = types.TryGetContentType(name, out var t) ? t : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type is "application/json" or "application/javascript" or "text/javascript")
            {
                type += "; charset=utf-8";
            }
            assets[name] = new Asset(name, bytes, hash, type, $"/assets/{Uri.EscapeDataString(name).Replace("%2F", "/", StringComparison.Ordinal)}?v={hash[..16]}");
        }
        return new AssetCatalog(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    public bool TryGet(string name, out Asset asset) => _assets.TryGetValue(name, out asset!);

    /// <summary>The bytes of one asset (for the simulation's own reading of ships.json and rules.json).</summary>
    public ReadOnlySpan<byte> Read(string name) =>
        _assets.TryGetValue(name, out var asset) ? asset.Bytes : throw new FileNotFoundException($"asset '{name}' is missing from the assets folder");
}
