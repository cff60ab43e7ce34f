namespace Sol.Zones.State;

/// <summary>
/// A stable name for one entity of one zone: a slot in the zone's handle table and the generation the slot had when
/// the entity was created. Dense indices change on every swap-remove; a handle does not, and a handle to a removed
/// entity never resolves again (its slot's generation moved on). <c>default</c> is never valid.
/// </summary>
public readonly record struct EntityHandle(int Slot, int Generation)
{
    /// <summary>True for handles that were ever issued (generation starts at 1).</summary>
    public bool IsSome => Generation != 0;
}
