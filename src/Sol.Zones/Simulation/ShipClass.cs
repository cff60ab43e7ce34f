namespace Sol.Zones.Simulation;

/// <summary>
/// The stats of one type of ship. The server loads these from the asset files and passes them in through
/// <see cref="ZoneOptions.ShipClasses"/>; a ship refers to its class by index in that list.
/// </summary>
/// <param name="Name">Asset name, for logs.</param>
/// <param name="MaxSpeed">Speed cap (units/s) applied by the control system every tick.</param>
/// <param name="Thrust">Acceleration at full thrust (units/s²).</param>
/// <param name="TurnRate">Angular speed at full turn (rad/s); also the cap.</param>
/// <param name="Hull">Hull points of a new or respawned ship.</param>
public readonly record struct ShipClass(string Name, double MaxSpeed, double Thrust, float TurnRate, float Hull)
{
    /// <summary>
    /// The hull a ship of this class is placed with when <paramref name="saved"/> was saved for it: the saved hull
    /// capped at <see cref="Hull"/>; a value that is not above 0 (none saved, or NaN) means a full hull.
    /// </summary>
    public float HullOnSpawn(float saved) => saved > 0 ? MathF.Min(saved, Hull) : Hull;
}
