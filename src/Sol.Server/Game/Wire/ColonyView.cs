namespace Sol.Server.Game.Wire;

/// <summary>A colony as a zone description shows it.</summary>
public readonly record struct ColonyView(int PlanetId, string Owner, double Founded);
