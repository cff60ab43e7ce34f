using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sol.Server.Assets;

namespace Sol.Server.Http;

/// <summary>
/// <c>GET /api/assets</c> (the manifest) and <c>GET /assets/{name}</c> (the files, from memory). Every file has a strong
/// ETag (its SHA-256) and answers If-None-Match with 304. Fetched by the manifest's URL (with <c>?v=</c> matching the
/// hash) a file is immutable for a year; fetched without it, caches must revalidate.
/// </summary>
internal static class AssetEndpoints
{
    public static void Map(IEndpointRouteBuilder app, AssetCatalog assets)
    {
        app.MapMethods("/api/assets", ReadMethods.GetOrHead, () => Results.Json(assets.Manifest));

        app.MapMethods("/assets/{**name}", ReadMethods.GetOrHead, (string? name, HttpContext http) =>
        {
            if (string.IsNullOrEmpty(name) || !assets.TryGet(name, out var asset))
            {
                return AuthEndpoints.Error(StatusCodes.Status404NotFound, $"no asset '{name}'");
            }
            // Immutable only by the manifest's own URL (v = the hash's first 16 digits, or more of it): before, any
            // prefix did, "?v=7" too.
            var version = http.Request.Query["v"].ToString();
            return CachedFileResult.Serve(http, asset, immutable: version.Length >= 16 && asset.Sha256.StartsWith(version, StringComparison.Ordinal));
        });
    }
}
