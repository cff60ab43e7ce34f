namespace Sol.Zones.Simulation;

/// <summary>A server request queued for the next between-ticks phase, applied in submission order.</summary>
internal readonly record struct ZoneCommand(ZoneCommandKind Kind, long Owner, int ZoneIndex, byte ShipClass, double X, double Y, float Hull, float Rotation);
