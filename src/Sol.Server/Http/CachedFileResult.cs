using Microsoft.AspNetCore.Http;
using Sol.Server.Assets;

namespace Sol.Server.Http;

/// <summary>
/// Answers a request for a file held in memory: its strong ETag, 304 for a matching If-None-Match, and either a year of
/// immutable caching or "no-cache" (revalidate every time). Shared by the game assets and the web client.
/// </summary>
internal static class CachedFileResult
{
    public static IResult Serve(HttpContext http, Asset file, bool immutable)
    {
        var headers = http.Response.Headers;
        var etag = file.ETag;
        headers.ETag = etag;
        headers.CacheControl = immutable ? "public, max-age=31536000, immutable" : "no-cache";
        headers.XContentTypeOptions = "nosniff";
        // Weak comparison (RFC 9110 §13.1.2): a proxy that compresses turns the ETag weak (W/"..."), and that still matches.
        var ifNoneMatch = http.Request.Headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0 && (ifNoneMatch.Trim() == "*" || ifNoneMatch.Split(',').Any(t => Opaque(t.Trim()) == etag)))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        return Results.Bytes(file.Bytes, file.ContentType);
    }

    private static string Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;
}
