using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
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
        app.MapMethods("/", ReadMethods.GetOrHead, (HttpContext http) => files is not null && files.TryGet("index.html", out var index)
            ? CachedFileResult.Serve(http, index, immutable: false)
            : Results.Content(NotBuilt, "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status503ServiceUnavailable));
        // A catch-all is the lowest route precedence: /api/*, /assets/*, /healthz and /metrics still win. It never takes
        // /api/...: an unknown API path is routing's 404 ("not found"), not a "no file" of the web client.
        var catchAll = RoutePatternFactory.Parse("/{**path}", defaults: null, parameterPolicies: new RouteValueDictionary { ["path"] = new NotApi() });
        app.Map(catchAll, (string path, HttpContext http) => files is not null && files.TryGet(path, out var file)
                ? CachedFileResult.Serve(http, file, immutable: IsHashed(path))
                : AuthEndpoints.Error(StatusCodes.Status404NotFound, $"no file '{path}'"))
            .WithMetadata(new HttpMethodMetadata(ReadMethods.GetOrHead));
    }

    /// <summary>A path that is not under <c>api/</c>.</summary>
    private sealed class NotApi : IRouteConstraint
    {
        public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
            values.TryGetValue(routeKey, out var value) && value is string path &&
            !(path.Equals("api", StringComparison.OrdinalIgnoreCase) || path.StartsWith("api/", StringComparison.OrdinalIgnoreCase));
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
