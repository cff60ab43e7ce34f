using Microsoft.Extensions.Logging;

namespace Sol.Transport.Sockets;

/// <summary>
/// Counts the exceptions that reached an I/O loop (each is a bug where it came from; the loop goes on) and logs them at
/// Error: the first <see cref="LoggedInFull"/> in full, then one in <see cref="LogEvery"/> with the count so far, so a
/// bug that fires on every event is seen without flooding the log.
/// </summary>
internal sealed class LoopFaults
{
    public const int LoggedInFull = 20;
    public const int LogEvery = 10_000;

    private long _count;
    private ILogger? _logger;

    public ILogger? Logger
    {
        get => Volatile.Read(ref _logger);
        set => Volatile.Write(ref _logger, value);
    }

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Drops <paramref name="logger"/> if it is still the one in use.</summary>
    public void ForgetLogger(ILogger logger) => Interlocked.CompareExchange(ref _logger, null, logger);

    /// <summary>Counts and maybe logs <paramref name="e"/>; never throws (it runs inside the loop's last catch).</summary>
    public void Report(Exception e, string where)
    {
        var count = Interlocked.Increment(ref _count);
        if (count > LoggedInFull && count % LogEvery != 0)
        {
            return;
        }
        try
        {
            Logger?.LogError(e, "{Thread}: an exception from {Where} reached the I/O loop ({Count} so far; the loop goes on)",
                Thread.CurrentThread.Name, where, count);
        }
        catch (Exception)
        {
            // A failing logger must not take the loop down either; the count still says it happened.
        }
    }
}
