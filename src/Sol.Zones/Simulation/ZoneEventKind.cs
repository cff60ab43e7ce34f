namespace Sol.Zones.Simulation;

/// <summary>What happened, in a <see cref="ZoneEvent"/>.</summary>
public enum ZoneEventKind : byte
{
    /// <summary>A ship entered the zone from the server (spawn).</summary>
    Spawned = 1,

    /// <summary>A ship left the game (server removal).</summary>
    Removed = 2,

    /// <summary>A ship's hull reached zero (target = 0).</summary>
    Destroyed = 3,

    /// <summary>A destroyed ship reappeared at the zone's respawn point with a full hull.</summary>
    Respawned = 4,

    /// <summary>A ship left this zone through a transfer (see <see cref="ZoneEvent.Action"/>; target = gate or planet id).</summary>
    Departed = 5,

    /// <summary>A ship arrived through a transfer.</summary>
    Arrived = 6,

    /// <summary>A jump, landing or take-off request was refused (see <see cref="ZoneEvent.Reason"/>).</summary>
    Rejected = 7,

    /// <summary>The owner founded a colony on this planet (target = the planet id; entity = the owner's ship here, else the colony).</summary>
    Colonized = 8,
}
