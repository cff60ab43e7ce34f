namespace Sol.Testing;

/// <summary>
/// Measures the bytes a piece of code allocates on this thread in its steady state: the body runs in rounds of
/// <c>iterations</c> calls, and the smallest round counts. The first rounds can see one-off allocations of the runtime
/// itself (tiered compilation starts counting calls after a start-up delay and allocates once when it does); a hot
/// path that allocates per call allocates in every round.
/// </summary>
public static class AllocationBudget
{
    public static long SteadyStateBytes(Action<int> body, int iterations = 10_000, int rounds = 6)
    {
        ArgumentNullException.ThrowIfNull(body);
        var best = long.MaxValue;
        for (var round = 0; round < rounds && best > 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < iterations; i++)
            {
                body(i);
            }
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return best;
    }
}
