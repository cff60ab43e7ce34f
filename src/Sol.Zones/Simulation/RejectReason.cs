namespace Sol.Zones.Simulation;

/// <summary>Why a request was refused.</summary>
public enum RejectReason : byte
{
    None = 0,

    /// <summary>No gate or planet with that id in this zone.</summary>
    UnknownTarget = 1,

    /// <summary>The gate or planet exists but the ship is not within reach.</summary>
    TooFar = 2,

    /// <summary>The request does not fit the zone: jumping or landing from a planet surface, taking off in space.</summary>
    WrongZone = 3,

    /// <summary>The action value is not one this server knows.</summary>
    UnknownAction = 4,

    /// <summary>The ship was destroyed in the step that would have carried the request out.</summary>
    Destroyed = 5,
}
