namespace Sol.Zones.Simulation;

/// <summary>
/// One per-entity system of the step (control, gravity, integrate, damage). Implemented by structs and called through
/// a constrained generic (<c>where T : struct, IZoneSystem</c>), so the JIT specialises and inlines each one: no
/// delegate, no virtual call per chunk.
/// </summary>
internal interface IZoneSystem
{
    /// <summary>Runs the system over dense indices <c>[start, end)</c> of <paramref name="zone"/>'s state.</summary>
    void Execute(Zone zone, int start, int end);
}
