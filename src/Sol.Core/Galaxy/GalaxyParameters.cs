namespace Sol.Core.Galaxy;

/// <summary>What a galaxy is generated from. The same parameters give the same galaxy, bit for bit.</summary>
/// <param name="Zones">Number of solar systems.</param>
/// <param name="Planets">Planets per system.</param>
/// <param name="Stars">Stars per system.</param>
/// <param name="Gates">Warp gates per system (graph degree).</param>
/// <param name="Seed">Seed of the deterministic generator.</param>
public sealed record GalaxyParameters(int Zones, IntRange Planets, IntRange Stars, IntRange Gates, ulong Seed)
{
    /// <summary>The defaults of <c>atom generate</c> and of a server that finds no galaxy.</summary>
    public static GalaxyParameters Default(int zones, ulong seed) => new(zones, new IntRange(1, 6), new IntRange(1, 2), new IntRange(2, 3), seed);

    /// <summary>
    /// Checks that a galaxy with these parameters can exist. Returns null when it can, otherwise one sentence that says
    /// why not, fit for a command line error.
    /// </summary>
    public string? Validate()
    {
        if (Zones < 1)
        {
            return $"--zones must be at least 1 (got {Zones})";
        }
        if (Planets.Min < 0 || Stars.Min < 0 || Gates.Min < 0)
        {
            return "counts cannot be negative (--planets, --stars and --gates take MIN..MAX with MIN >= 0)";
        }
        if (!Planets.IsOrdered)
        {
            return $"--planets {Planets}: MIN is greater than MAX";
        }
        if (!Stars.IsOrdered)
        {
            return $"--stars {Stars}: MIN is greater than MAX";
        }
        if (!Gates.IsOrdered)
        {
            return $"--gates {Gates}: MIN is greater than MAX";
        }
        if (Stars.Min < 1)
        {
            return "--stars: every system needs at least one star (MIN >= 1)";
        }
        if (Planets.Max > GalaxyLimits.MaxPlanetsPerSystem || Stars.Max > GalaxyLimits.MaxStarsPerSystem || Gates.Max > GalaxyLimits.MaxGatesPerSystem)
        {
            return $"at most {GalaxyLimits.MaxPlanetsPerSystem} planets, {GalaxyLimits.MaxStarsPerSystem} stars and {GalaxyLimits.MaxGatesPerSystem} gates per system";
        }
        if (Zones > GalaxyLimits.MaxZones)
        {
            return $"--zones must be at most {GalaxyLimits.MaxZones:N0} (got {Zones})";
        }
        if (Zones == 1)
        {
            return Gates.Min == 0 ? null : $"--zones 1 leaves no other system to link: --gates must allow 0 (got {Gates})";
        }
        if (Gates.Max < 1)
        {
            return $"--gates {Gates}: {Zones} systems cannot be connected without gates";
        }
        if (Zones <= Gates.Min)
        {
            return $"--zones {Zones} is too few for --gates {Gates}: each system needs {Gates.Min} distinct neighbours";
        }
        if (Zones > 2 && Gates.Max < 2)
        {
            return $"--gates {Gates}: more than two systems cannot be connected when no system has two gates";
        }
        if (Gates.Min == Gates.Max && (long)Zones * Gates.Min % 2 == 1)
        {
            return $"--zones {Zones} with exactly {Gates.Min} gates each is impossible: gates come in pairs, so zones x gates must be even";
        }
        return null;
    }
}
