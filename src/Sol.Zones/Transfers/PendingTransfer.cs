using Sol.Core.Galaxy;
using Sol.Zones.State;

namespace Sol.Zones.Transfers;

/// <summary>
/// A transfer a zone's trigger system accepted during a tick; the world applies it between ticks (remove from the
/// source, add to the target, in zone order then trigger order, on one thread).
/// </summary>
internal readonly record struct PendingTransfer(EntityHandle Entity, long Owner, TransferKind Kind, ZoneId To, int Target);
