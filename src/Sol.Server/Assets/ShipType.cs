namespace Sol.Server.Assets;

/// <summary>A ship type from <c>ships.json</c>: the stats the simulation uses for ships of this type.</summary>
public sealed record ShipType(string Id, string Name, double MaxSpeed, double Thrust, double TurnRate, double Hull, double Radius, long Cost);
