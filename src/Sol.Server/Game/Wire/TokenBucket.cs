using System.Diagnostics;

namespace Sol.Server.Game.Wire;

/// <summary>
/// A per-connection message-rate limit: <see cref="Rate"/> tokens a second refill a bucket of <see cref="Burst"/>;
/// each message takes one. A mutable struct kept in its connection (no allocation, no lock: one reader per connection).
/// </summary>
public struct TokenBucket
{
    private double _tokens;
    private long _last;

    public TokenBucket(double rate, double burst)
    {
        Rate = rate;
        Burst = burst;
        _tokens = burst;
        _last = Stopwatch.GetTimestamp();
    }

    public double Rate { get; }

    public double Burst { get; }

    /// <summary>Takes a token at <paramref name="timestamp"/> (a <see cref="Stopwatch"/> timestamp); false when empty.</summary>
    public bool TryTake(long timestamp)
    {
        var elapsed = Stopwatch.GetElapsedTime(_last, timestamp).TotalSeconds;
        _last = timestamp;
        _tokens = Math.Min(Burst, _tokens + (elapsed * Rate));
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }

    public bool TryTake() => TryTake(Stopwatch.GetTimestamp());
}
