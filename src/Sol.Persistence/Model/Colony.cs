namespace Sol.Persistence.Model;

/// <summary>A colony founded by a player on a planet.</summary>
public readonly record struct Colony(Guid GalaxyId, int PlanetId, Guid PlayerId, DateTimeOffset FoundedAt);
