namespace Sol.Core.Galaxy;

/// <summary>Names one zone: a system (by system id) or a planet surface (by planet id).</summary>
public readonly record struct ZoneId(ZoneKind Kind, int Id)
{
    public static ZoneId ForSystem(int systemId) => new(ZoneKind.System, systemId);

    public static ZoneId ForPlanet(int planetId) => new(ZoneKind.Planet, planetId);

    /// <inheritdoc />
    public override string ToString() => Kind == ZoneKind.System ? $"system:{Id}" : $"planet:{Id}";
}
