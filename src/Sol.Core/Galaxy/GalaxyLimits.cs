namespace Sol.Core.Galaxy;

/// <summary>Hard limits on generated galaxies; they keep ids inside <see cref="int"/> and zones playable.</summary>
public static class GalaxyLimits
{
    public const int MaxZones = 1_000_000;
    public const int MaxPlanetsPerSystem = 12;
    public const int MaxStarsPerSystem = 4;
    public const int MaxGatesPerSystem = 8;
}
