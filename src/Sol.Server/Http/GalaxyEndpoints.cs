using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sol.Core.Galaxy;

namespace Sol.Server.Http;

/// <summary>
/// <c>GET /api/galaxy</c>: the map (systems with positions and gate links), encoded once at start-up;
/// <c>GET /api/route?from=&amp;to=</c>: the fewest-jumps route between two systems.
/// </summary>
internal static class GalaxyEndpoints
{
    public static void Map(IEndpointRouteBuilder app, string name, GalaxyModel galaxy)
    {
        var map = EncodeMap(name, galaxy);
        app.MapGet("/api/galaxy", () => Results.Bytes(map, "application/json; charset=utf-8"));

        app.MapGet("/api/route", (string? from, string? to) =>
        {
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
