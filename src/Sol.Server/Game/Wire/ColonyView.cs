namespace Sol.Server.Game.Wire;

/// <summary>A colony as a zone description and a <c>ColonyInfo</c> message show it: where it stands on its planet's surface too.</summary>
public readonly record struct ColonyView(int PlanetId, string Owner, double Founded, float X, float Y);
