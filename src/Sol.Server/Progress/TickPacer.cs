namespace Sol.Server.Progress;

/// <summary>
/// Lets background work run between ticks instead of beside them: <see cref="WaitAsync"/> completes right after the
/// next tick has completed, so a short piece of work started then has most of a tick period before the zone workers
/// need the cores again. The write-behind flush waits on it before each chunk of players.
/// </summary>
/// <remarks>
/// Fed by the tick's coordinator (<see cref="OnTickCompleted"/>, allocation-free). <see cref="WaitAsync"/> does not wait
/// when there is no quiet part of the period to wait for: no tick completed within the last two periods (the clock is
/// stopped, or there is none, as in tools and most tests), or the last two ticks completed less than half a period
/// apart (ticks stepped back to back, as by hand or in a benchmark; a tick that just overran only delays the next one).
/// It never waits longer than two periods. One waiter at a time (the write-behind loop).
/// </remarks>
public sealed class TickPacer
{
    private readonly TimeProvider _time;
    private readonly long _period;
    private readonly TimeSpan _maxWait;
    private long _lastTick;
    private long _lastGap;
    private long _ticksSeen;
    private TaskCompletionSource? _waiter;

    /// <param name="tickRate">Ticks per second of the clock that will call <see cref="OnTickCompleted"/>.</param>
    /// <param name="time">The time source (tests); the system's by default.</param>
    public TickPacer(int tickRate, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tickRate, 1);
        _time = time ?? TimeProvider.System;
        TickRate = tickRate;
        _period = _time.TimestampFrequency / tickRate;
        _maxWait = TimeSpan.FromSeconds(2.0 / tickRate);
    }

    /// <summary>Ticks per second of the clock that feeds it.</summary>
    public int TickRate { get; }

    /// <summary>Ticks seen so far (for tests and diagnostics).</summary>
    public long TicksSeen => Interlocked.Read(ref _ticksSeen);

    /// <summary>Called on the coordinator once a tick is complete.</summary>
    public void OnTickCompleted()
    {
        var now = _time.GetTimestamp();
        var last = Volatile.Read(ref _lastTick);
        Volatile.Write(ref _lastGap, last == 0 ? long.MaxValue : now - last);
        Volatile.Write(ref _lastTick, now);
        Interlocked.Increment(ref _ticksSeen);
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    /// <summary>
    /// Completes on the thread pool right after the next tick completes; at once when there is no quiet part of the
    /// period to wait for (see the remarks); after two tick periods at most.
    /// </summary>
    public Task WaitAsync(CancellationToken cancellationToken = default)
    {
        var last = Volatile.Read(ref _lastTick);
        if (last == 0 || _time.GetTimestamp() - last > 2 * _period || Volatile.Read(ref _lastGap) < _period / 2)
        {
            return Task.CompletedTask;
        }
        // Continuations run on the pool, never inline on the coordinator that completes the waiter.
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, waiter);
        return WaitCoreAsync(waiter.Task, cancellationToken);
    }

    private async Task WaitCoreAsync(Task next, CancellationToken cancellationToken)
    {
        try
        {
            await next.WaitAsync(_maxWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The clock stalled or stopped between the check and now: go on without it.
        }
    }
}
