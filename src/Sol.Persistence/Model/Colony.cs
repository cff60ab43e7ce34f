namespace Sol.Persistence.Model;

/// <summary>A colony founded by a player on a planet, standing at (<paramref name="X"/>, <paramref name="Y"/>) on its surface.</summary>
public readonly record struct Colony(Guid GalaxyId, int PlanetId, Guid PlayerId, DateTimeOffset FoundedAt, double X, double Y);
