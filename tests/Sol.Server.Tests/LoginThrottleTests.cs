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

    [Fact]
    public void ALimitOfZeroIsNoLimitAndCountsNothing()
    {
        // helper-60: a per-account limit of 0 made every password login a 500 (Oldest of an empty list).
        var throttle = new LoginThrottle(_clock);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("A:ada", 0), ("i:1.2.3.4", 20)));
        }
        Assert.NotEqual(TimeSpan.Zero, throttle.TryBegin(("i:1.2.3.4", 10))); // the other key was counted
        Assert.Equal(TimeSpan.Zero, throttle.TryBegin(("A:ada", 1))); // this one was not
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::/64")]
    public void AddressesAreCountedByIPv4AddressOrIPv6Slash64(string address, string group)
    {
        Assert.Equal(group, Sol.Server.Http.AuthEndpoints.AddressGroup(System.Net.IPAddress.Parse(address)));
    }
}
