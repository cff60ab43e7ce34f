namespace Sol.Zones.State;

/// <summary>What an entity in a zone is. Stored in one byte per entity in the <c>Kind</c> column.</summary>
public enum EntityKind : byte
{
    /// <summary>A free slot; never seen in a snapshot.</summary>
    None = 0,

    /// <summary>A player's ship (owner = player id).</summary>
    Ship = 1,

    /// <summary>A computer-driven ship patrolling its system.</summary>
    Npc = 2,

    /// <summary>A planet on its closed-form orbit (ref = planet id).</summary>
    Planet = 3,

    /// <summary>A fixed star (ref = star id).</summary>
    Star = 4,

    /// <summary>A warp gate (ref = gate id).</summary>
    Gate = 5,

    /// <summary>A colony on a planet surface (owner = player id).</summary>
    Colony = 6,
}
