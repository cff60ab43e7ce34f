using Sol.Zones.Input;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>One thing that happened in a zone during a tick; fixed-size, emitted with the snapshot.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Owner">The ship's owner (player id; 0 for NPCs).</param>
/// <param name="Entity">The entity in this zone (for <see cref="ZoneEventKind.Departed"/>, its handle before leaving).</param>
/// <param name="Action">The request concerned (jump, land, take-off), if any.</param>
/// <param name="Target">The gate or planet id concerned, if any.</param>
/// <param name="Reason">Why a request was rejected.</param>
public readonly record struct ZoneEvent(ZoneEventKind Kind, long Owner, EntityHandle Entity, ShipAction Action, int Target, RejectReason Reason);
