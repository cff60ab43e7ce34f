using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sol.Core.Galaxy;
using Sol.Server.Assets;
using Sol.Server.Auth;

namespace Sol.Server.Http;

/// <summary>
/// <c>GET /api/galaxy</c>: the map (systems with positions and gate links), encoded and gzipped once at start-up, with
/// a strong ETag (revalidated: 304); <c>GET /api/route?from=&amp;to=</c>: the fewest-jumps route between two systems, a
/// search of the whole gate graph, so <see cref="RoutesPerAddress"/> per address per 10 s (loopback exempt, as the
/// other per-address limits).
/// </summary>
internal static class GalaxyEndpoints
{
    /// <summary>Route searches per client address per <see cref="RouteWindow"/> (4 a second on average).</summary>
    public const int RoutesPerAddress = 40;

    public static readonly TimeSpan RouteWindow = TimeSpan.FromSeconds(10);

    public static void Map(IEndpointRouteBuilder app, string name, GalaxyModel galaxy, TimeProvider time)
    {
        var map = EncodeMap(name, galaxy);
        var plain = Asset.Of("galaxy.json", map, "application/json; charset=utf-8");
        var gzipped = Asset.Of("galaxy.json.gz", Gzip(map), "application/json; charset=utf-8");
        app.MapMethods("/api/galaxy", ReadMethods.GetOrHead, (HttpContext http) =>
        {
            // 14.5 MB for 100,000 systems, 3.8 MB gzipped; fetched at every page load, so cached and revalidated.
            http.Response.Headers.Vary = "Accept-Encoding";
            if (AcceptsGzip(http.Request))
            {
                http.Response.Headers.ContentEncoding = "gzip";
                return CachedFileResult.Serve(http, gzipped, immutable: false);
            }
            return CachedFileResult.Serve(http, plain, immutable: false);
        });

        var routes = new LoginThrottle(time, RouteWindow);
        app.MapMethods("/api/route", ReadMethods.GetOrHead, (string? from, string? to, HttpContext http) =>
        {
            if (AuthEndpoints.Throttled(http, routes, "route:", RoutesPerAddress, "too many route searches from this address; try again later") is { } refused)
            {
                return refused;
            }
            if (!int.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var a) ||
                !int.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
            {
                return AuthEndpoints.Error(StatusCodes.Status400BadRequest, "from and to must be system ids");
            }
            if (a < 1 || a > galaxy.Systems.Length || b < 1 || b > galaxy.Systems.Length)
            {
                return AuthEndpoints.Error(StatusCodes.Status404NotFound, "no such system");
            }
            var route = GalaxyRoutes.ShortestRoute(galaxy, a, b);
            return route is null
                ? AuthEndpoints.Error(StatusCodes.Status404NotFound, "no route between those systems")
                : Results.Json(new { from = a, to = b, jumps = route.Length - 1, systems = route });
        });
    }

    /// <summary>Whether the client takes gzip (Accept-Encoding, parsed by ASP.NET Core's typed headers; q=0 refuses it).</summary>
    private static bool AcceptsGzip(HttpRequest request) =>
        request.GetTypedHeaders().AcceptEncoding.Any(static e => e.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) && (e.Quality ?? 1) > 0);

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal))
        {
            gzip.Write(bytes);
        }
        return buffer.ToArray();
    }

    private static byte[] EncodeMap(string name, GalaxyModel galaxy)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("contentHash", galaxy.ContentHash);
            json.WriteStartArray("systems");
            foreach (var s in galaxy.Systems)
            {
                json.WriteStartObject();
                json.WriteNumber("id", s.Id);
                json.WriteString("name", s.Name);
                json.WriteNumber("x", Math.Round(s.X, 2));
                json.WriteNumber("y", Math.Round(s.Y, 2));
                json.WriteNumber("planets", galaxy.PlanetsOf(s.Id).Length);
                json.WriteStartArray("gates");
                foreach (var g in galaxy.GatesOf(s.Id))
                {
                    json.WriteStartObject();
                    json.WriteNumber("id", g.Id);
                    json.WriteNumber("to", g.TargetSystemId);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
