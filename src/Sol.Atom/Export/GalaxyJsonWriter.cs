using System.Text.Json;
using Sol.Core.Galaxy;
using Sol.Persistence.Model;

namespace Sol.Atom.Export;

/// <summary>
/// Streams a galaxy as JSON (shape in docs/atom.md): the header, then each system with its stars, planets and gates
/// nested. Written with <see cref="Utf8JsonWriter"/> straight to the output, so 100,000 systems need no document in memory.
/// </summary>
internal static class GalaxyJsonWriter
{
    public static async Task WriteAsync(GalaxySummary summary, GalaxyModel galaxy, TextWriter output, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true });
        var p = galaxy.Parameters;
        json.WriteStartObject();
        json.WriteString("name", summary.Name);
        json.WriteString("contentHash", galaxy.ContentHash);
        json.WriteString("createdAt", summary.CreatedAt);
        json.WriteStartObject("parameters");
        json.WriteNumber("zones", p.Zones);
        WriteRange(json, "planets", p.Planets);
        WriteRange(json, "stars", p.Stars);
        WriteRange(json, "gates", p.Gates);
        json.WriteNumber("seed", p.Seed);
        json.WriteEndObject();
        json.WriteStartArray("systems");
        foreach (var system in galaxy.Systems)
        {
            json.WriteStartObject();
            json.WriteNumber("id", system.Id);
            json.WriteString("name", system.Name);
            json.WriteNumber("x", system.X);
            json.WriteNumber("y", system.Y);
            json.WriteStartArray("stars");
            foreach (var star in galaxy.StarsOf(system.Id))
            {
                json.WriteStartObject();
                json.WriteNumber("id", star.Id);
                json.WriteNumber("x", star.X);
                json.WriteNumber("y", star.Y);
                json.WriteNumber("radius", star.Radius);
                json.WriteNumber("mass", star.Mass);
                json.WriteNumber("damageRadius", star.DamageRadius);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("planets");
            foreach (var planet in galaxy.PlanetsOf(system.Id))
            {
                json.WriteStartObject();
                json.WriteNumber("id", planet.Id);
                json.WriteString("name", planet.Name);
                json.WriteNumber("radius", planet.Radius);
                json.WriteNumber("orbitRadius", planet.OrbitRadius);
                json.WriteNumber("period", planet.Period);
                json.WriteNumber("phase", planet.Phase);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("gates");
            foreach (var gate in galaxy.GatesOf(system.Id))
            {
                json.WriteStartObject();
                json.WriteNumber("id", gate.Id);
                json.WriteNumber("x", gate.X);
                json.WriteNumber("y", gate.Y);
                json.WriteNumber("targetSystemId", gate.TargetSystemId);
                json.WriteNumber("partnerGateId", gate.PartnerGateId);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            if (buffer.Length > 1 << 16)
            {
                await FlushAsync(json, buffer, output, cancellationToken).ConfigureAwait(false);
            }
        }
        json.WriteEndArray();
        json.WriteEndObject();
        await FlushAsync(json, buffer, output, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
    }

    private static void WriteRange(Utf8JsonWriter json, string name, IntRange range)
    {
        json.WriteStartObject(name);
        json.WriteNumber("min", range.Min);
        json.WriteNumber("max", range.Max);
        json.WriteEndObject();
    }

    private static async Task FlushAsync(Utf8JsonWriter json, MemoryStream buffer, TextWriter output, CancellationToken cancellationToken)
    {
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).AsMemory(), cancellationToken).ConfigureAwait(false);
        buffer.SetLength(0);
    }
}
