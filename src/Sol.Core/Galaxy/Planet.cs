namespace Sol.Core.Galaxy;

/// <summary>
/// A planet on a circular orbit around its system's centre: at time t (seconds) it is at angle
/// <c>Phase + 2π t / Period</c> on a circle of <see cref="OrbitRadius"/>. Each planet is a landable zone of its own.
/// </summary>
public readonly record struct Planet(int Id, int SystemId, string Name, double Radius, double OrbitRadius, double Period, double Phase)
{
    /// <summary>The planet's position at <paramref name="time"/> seconds, in closed form.</summary>
    public (double X, double Y) PositionAt(double time)
    {
        var angle = Phase + (2 * Math.PI * time / Period);
        var (sin, cos) = Math.SinCos(angle);
        return (OrbitRadius * cos, OrbitRadius * sin);
    }
}
