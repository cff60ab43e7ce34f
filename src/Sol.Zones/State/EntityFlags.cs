namespace Sol.Zones.State;

/// <summary>Per-entity bits, one byte in the <c>Flags</c> column.</summary>
[Flags]
#pragma warning disable CA1028, CA1711 // one byte per entity on purpose (a column of the state); the issue names the column "flags".
public enum EntityFlags : byte
#pragma warning restore CA1028, CA1711
{
    None = 0,

    /// <summary>Moves under control, gravity and integration (ships and NPCs).</summary>
    Dynamic = 1,

    /// <summary>The owner holds the fire button in the latest input.</summary>
    Firing = 2,

    /// <summary>The ship leaves the zone at the end of this tick (an accepted jump, landing or take-off).</summary>
    Departing = 4,

    /// <summary>The ship was destroyed and respawned during this tick.</summary>
    Respawned = 8,

    /// <summary>The engine is on: the latest input's thrust is not zero (an NPC's always is, from its first step).</summary>
    Thrusting = 16,
}
