using System.Globalization;
using Sol.Core.Galaxy;

namespace Sol.Atom.Export;

/// <summary>
/// The galaxy map as a Graphviz graph: one node per system pinned at its map position (<c>neato -n</c> or
/// <c>fdp</c> keep it), one edge per gate pair. Draw it with <c>atom export --format dot | neato -n -Tsvg &gt; map.svg</c>.
/// </summary>
internal static class GalaxyDotWriter
{
    public static async Task WriteAsync(GalaxyModel galaxy, TextWriter output, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        await output.WriteLineAsync($"graph \"{Escape(galaxy.Name)}\" {{").ConfigureAwait(false);
        await output.WriteLineAsync("  graph [outputorder=edgesfirst, bgcolor=black];").ConfigureAwait(false);
        await output.WriteLineAsync("  node [shape=point, width=0.06, color=white, fontcolor=white, fontsize=8];").ConfigureAwait(false);
        await output.WriteLineAsync("  edge [color=\"#4a6fa5\"];").ConfigureAwait(false);
        foreach (var s in galaxy.Systems)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Positions in points (1 ly = 4 pt); "!" pins them.
            await output.WriteLineAsync(string.Create(c, $"  {s.Id} [label=\"{Escape(s.Name)}\", tooltip=\"{Escape(s.Name)}\", pos=\"{s.X * 4:0.##},{s.Y * 4:0.##}!\"];")).ConfigureAwait(false);
        }
        foreach (var g in galaxy.Gates)
        {
            if (g.SystemId < g.TargetSystemId)
            {
                await output.WriteLineAsync(string.Create(c, $"  {g.SystemId} -- {g.TargetSystemId};")).ConfigureAwait(false);
            }
        }
        await output.WriteLineAsync("}").ConfigureAwait(false);
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
