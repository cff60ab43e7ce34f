namespace Sol.Core.Galaxy;

/// <summary>
/// A star inside a system, fixed at <see cref="X"/>/<see cref="Y"/> (system units). Not landable. <see cref="Mass"/> is
/// the gravitational parameter (GM, units³/s²); ships inside <see cref="DamageRadius"/> burn.
/// </summary>
public readonly record struct Star(int Id, int SystemId, double X, double Y, double Radius, double Mass, double DamageRadius);
