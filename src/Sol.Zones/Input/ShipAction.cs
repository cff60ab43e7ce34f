namespace Sol.Zones.Input;

/// <summary>A request carried by an input besides thrust and turn. Evaluated once, by the trigger system.</summary>
public enum ShipAction : byte
{
    None = 0,

    /// <summary>Jump through the gate named by <see cref="InputCommand.Target"/> (a gate id of the current system).</summary>
    Jump = 1,

    /// <summary>Land on the planet named by <see cref="InputCommand.Target"/> (a planet id of the current system).</summary>
    Land = 2,

    /// <summary>Leave the current planet surface for that planet's orbit in its system.</summary>
    TakeOff = 3,
}
