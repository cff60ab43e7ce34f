namespace Sol.Zones.Transfers;

/// <summary>Why a ship changed zones (or entered or left the world), in a <see cref="ShipTransfer"/>.</summary>
public enum TransferKind : byte
{
    /// <summary>The server's spawn was applied: the ship exists in <see cref="ShipTransfer.To"/>.</summary>
    Spawned = 1,

    /// <summary>The server's removal was applied: the ship is gone from <see cref="ShipTransfer.From"/>.</summary>
    Removed = 2,

    /// <summary>Gate jump from one system to the partner gate's system.</summary>
    Jump = 3,

    /// <summary>Landing from a system onto a planet surface.</summary>
    Land = 4,

    /// <summary>Take-off from a planet surface into the planet's orbit in its system.</summary>
    TakeOff = 5,
}
