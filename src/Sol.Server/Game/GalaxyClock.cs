namespace Sol.Server.Game;

/// <summary>
/// Galaxy time: seconds since the galaxy was created. Orbits are closed-form in this time, so planets stand where they
/// should after any restart, and a zone that slept wakes exactly where it would have been.
/// </summary>
public sealed class GalaxyClock(DateTimeOffset epoch, TimeProvider time)
{
    public DateTimeOffset Epoch { get; } = epoch;

    public double Now => (time.GetUtcNow() - Epoch).TotalSeconds;

    /// <summary>Unix seconds now (for Welcome and Pong).</summary>
    public double UnixNow => time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
}
