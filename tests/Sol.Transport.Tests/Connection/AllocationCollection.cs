namespace Sol.Transport.Tests.Connection;

/// <summary>Allocation budgets count every thread's allocations, so they run alone (after the parallel tests).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation budgets";
}
