namespace Sol.Core.Galaxy;

/// <summary>What a zone is: a solar system in space, or the surface of one planet.</summary>
public enum ZoneKind : byte
{
    System = 1,
    Planet = 2,
}
