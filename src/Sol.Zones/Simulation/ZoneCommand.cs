namespace Sol.Zones.Simulation;

/// <summary>A server request queued for the next between-ticks phase, applied in submission order.</summary>
/// <remarks>A spawn's velocity is (<see cref="Vx"/>, <see cref="Vy"/>); both zero: the orbit's at its place.</remarks>
internal readonly record struct ZoneCommand(ZoneCommandKind Kind, long Owner, int ZoneIndex, byte ShipClass, double X, double Y, float Hull, float Rotation, double Vx = 0, double Vy = 0);
