namespace Sol.Core.Galaxy;

/// <summary>
/// Generates a galaxy from <see cref="GalaxyParameters"/>, deterministically: the same parameters give the same
/// systems, bodies and gates, bit for bit, and so the same <see cref="GalaxyModel.ContentHash"/>.
/// </summary>
/// <remarks>
/// Three stages, each with its own random stream so that changing one does not reshuffle the others:
/// <list type="number">
/// <item><see cref="GalaxyMap"/> scatters the systems over spiral arms (map positions, names).</item>
/// <item><see cref="GateGraph"/> links near neighbours into a connected graph whose degrees lie in the gate range.</item>
/// <item><see cref="SystemLayout"/> places each system's stars, planet orbits and gates (gates point at their target).</item>
/// </list>
/// 100,000 systems take about a second on one core.
/// </remarks>
public static class GalaxyGenerator
{
    /// <summary>Generates the galaxy. Throws <see cref="ArgumentException"/> when the parameters are impossible.</summary>
    public static GalaxyModel Generate(string name, GalaxyParameters parameters, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(parameters));
        }

        progress?.Report($"placing {parameters.Zones:N0} systems");
        var map = GalaxyMap.Create(parameters.Zones, parameters.Seed);

        progress?.Report("linking gates");
        var graph = GateGraph.Build(map.X, map.Y, parameters.Gates, parameters.Seed);

        progress?.Report("laying out stars, planets and gates");
        return SystemLayout.Build(name, parameters, map, graph);
    }
}
