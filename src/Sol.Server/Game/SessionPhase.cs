namespace Sol.Server.Game;

/// <summary>Where a session is in its life.</summary>
public enum SessionPhase : byte
{
    /// <summary>Connected; the ship's spawn is queued.</summary>
    Joining,

    /// <summary>The ship is in a zone and the session receives its snapshots.</summary>
    Playing,

    /// <summary>The connection dropped; the ship stays in its zone for the resume grace period.</summary>
    Detached,

    /// <summary>Disconnected; the ship's removal is queued.</summary>
    Leaving,

    /// <summary>Gone from the world.</summary>
    Left,
}
