using Sol.Server.Auth;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class PasswordWorkTests
{
    [Fact]
    public async Task AtMostItsConcurrencyHashAtOnceAndBeyondItsQueueRequestsAreTurnedAway()
    {
        using var work = new PasswordWork(concurrency: 2, queue: 3);
        using var release = new ManualResetEventSlim();
        var running = 0;
        var most = 0;
        int Hash()
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            release.Wait(TimeSpan.FromSeconds(20));
            Interlocked.Decrement(ref running);
            return 1;
        }

        var calls = Enumerable.Range(0, 10).Select(_ => Task.Run(() => work.RunAsync(Hash, CancellationToken.None))).ToList();
        // Two run, three wait, five are turned away at once.
        await Eventually.TrueAsync(() => calls.Count(c => c.IsCompleted) == 5 && work.Running == 2, TimeSpan.FromSeconds(10), "five turned away, two running");
        Assert.All(calls.Where(c => c.IsCompleted), c => Assert.False(c.Result.Ran));

        release.Set();
        var results = await Task.WhenAll(calls);
        Assert.Equal(5, results.Count(r => r.Ran && r.Result == 1));
        Assert.Equal(2, most);
        Assert.Equal(0, work.Running);
        Assert.True((await work.RunAsync(() => 7, CancellationToken.None)).Ran); // room again
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }
}
