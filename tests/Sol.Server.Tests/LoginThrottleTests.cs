using Sol.Server.Auth;

namespace Sol.Server.Tests;

public sealed class LoginThrottleTests
{
    private readonly ManualClock _clock = new();

    [Fact]
    public void AKeyAtItsLimitWaitsForItsOldestAttemptToLeaveTheWindow()
    {
        var throttle = new LoginThrottle(_clock, TimeSpan.FromMinutes(5));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("a:ada", 3)));
            _clock.Advance(TimeSpan.FromMinutes(1));
        }
        Assert.Equal(TimeSpan.FromMinutes(2), throttle.TryBegin(("a:ada", 3))); // the first leaves the window at minute 5
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("a:ada", 3)));
    }

    [Fact]
    public void WhenOneKeyIsAtItsLimitNoKeyIsCounted()
    {
        var throttle = new LoginThrottle(_clock);
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("i:1.2.3.4", 1)));
        Assert.NotEqual(TimeSpan.Zero, throttle.TryBegin(("a:ada", 2), ("i:1.2.3.4", 1)));
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("a:ada", 2))); // the refused attempt did not count for ada
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("a:ada", 2)));
        Assert.NotEqual(TimeSpan.Zero, throttle.TryBegin(("a:ada", 2)));
    }

    [Fact]
    public void ForgetAndReleaseGiveAttemptsBack()
    {
        var throttle = new LoginThrottle(_clock);
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("a:ada", 1), ("i:1.2.3.4", 1)));
        throttle.Forget("a:ada");
        throttle.Release("i:1.2.3.4");
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("a:ada", 1), ("i:1.2.3.4", 1)));
    }

    [Fact]
    public async Task AttemptsAtTheSameMomentNeverGetPastTheLimit()
    {
        var throttle = new LoginThrottle(_clock);
        using var start = new Barrier(8);
        var allowed = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 100; i++)
            {
                if (throttle.TryBegin(("a:ada", 5), ("i:1.2.3.4", 50)) == TimeSpan.Zero)
                {
                    Interlocked.Increment(ref allowed);
                }
            }
        })));
        Assert.Equal(5, allowed);
    }

    [Fact]
    public void EntriesExpireWithTheirWindowWhateverTheirNumber()
    {
        var throttle = new LoginThrottle(_clock, TimeSpan.FromMinutes(5));
        for (var i = 0; i < 1_000; i++)
        {
            throttle.TryBegin(($"a:user{i}", 5), ($"i:10.0.{i / 256}.{i % 256}", 20));
        }
        Assert.Equal(2_000, throttle.Count);

        // Before, entries went only when there were more than 100,000 of them.
        _clock.Advance(TimeSpan.FromMinutes(6));
        throttle.TryBegin(("a:late", 5));
        Assert.Equal(1, throttle.Count);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
