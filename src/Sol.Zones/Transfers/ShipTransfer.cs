using Sol.Core.Galaxy;
using Sol.Zones.State;

namespace Sol.Zones.Transfers;

/// <summary>
/// An outcome the server drains with <see cref="Simulation.ZoneWorld.DrainTransfers"/>: the ship of
/// <see cref="Owner"/> is now in <see cref="To"/> (or nowhere, for a removal), so the owner's subscription must move.
/// </summary>
/// <param name="Owner">The player id.</param>
/// <param name="Kind">Why.</param>
/// <param name="From">The zone left; <c>default</c> for a spawn.</param>
/// <param name="To">The zone entered; <c>default</c> for a removal.</param>
/// <param name="Entity">The ship's handle in <see cref="To"/>.</param>
/// <param name="Tick">The tick after which the transfer was applied; the ship steps in <see cref="To"/> from the next one.</param>
public readonly record struct ShipTransfer(long Owner, TransferKind Kind, ZoneId From, ZoneId To, EntityHandle Entity, long Tick);
