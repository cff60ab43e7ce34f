using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sol.Server.Assets;

namespace Sol.Server.Http;

/// <summary>
/// The web client (the esbuild bundle of <c>client/</c>) at <c>/</c>: <c>index.html</c> for <c>/</c>, every other file
/// of the folder by its name. The files are read into memory at start-up as an <see cref="AssetCatalog"/> (each with
/// a strong ETag, its SHA-256, that answers If-None-Match with 304). <c>index.html</c> must always be revalidated;
/// files whose name carries a content hash (<c>app-0123456789ab.js</c>) are immutable. Without a built client, <c>/</c>
/// says so in a page of its own.
/// </summary>
internal static class ClientEndpoints
{
    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private const string NotBuilt =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sol: web client not built</title></head>" +
        "<body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>The web client was not built</h1>" +
        "<p>This server has no web client to serve. Building the server builds it when Node.js and npm are installed " +
        "(<code>dotnet build src/Sol.Server</code> runs <code>npm ci</code> and <code>npm run build</code> in " +
        "<code>client/</code>); install them and build again, or point <code>SOL_CLIENT_DIR</code> at a built " +
        "<code>client/dist</code>.</p><p>The HTTP API (<code>/api/...</code>) and the game port work without it.</p></body></html>";

    public static void Map(IEndpointRouteBuilder app, string directory)
    {
        var files = Directory.Exists(directory) ? AssetCatalog.Load(directory) : null;
        app.MapGet("/", (HttpContext http) => files is not null && files.TryGet("index.html", out var index)
            ? CachedFileResult.Serve(http, index, immutable: false)
            : Results.Content(NotBuilt, "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status503ServiceUnavailable));
        // A catch-all is the lowest route precedence: /api/*, /assets/*, /healthz and /metrics still win.
        app.MapGet("/{**path}", (string path, HttpContext http) => files is not null && files.TryGet(path, out var file)
            ? CachedFileResult.Serve(http, file, immutable: IsHashed(path))
            : AuthEndpoints.Error(StatusCodes.Status404NotFound, $"no file '{path}'"));
    }

    /// <summary>True for names like <c>app-0123456789ab.js</c>: a content hash of at least 8 hex digits before the extension.</summary>
    private static bool IsHashed(string name)
    {
        var file = Path.GetFileName(name);
        var dot = file.IndexOf('.', StringComparison.Ordinal);
        var dash = file.LastIndexOf('-', dot < 0 ? file.Length - 1 : dot);
        if (dash < 0 || dot < 0 || dot - dash - 1 < 8)
        {
            return false;
        }
        return file.AsSpan(dash + 1, dot - dash - 1).ContainsAnyExcept(s_hex) is false;
    }
}
