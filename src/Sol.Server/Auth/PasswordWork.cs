namespace Sol.Server.Auth;

/// <summary>
/// Runs password hashing (registrations, password logins: PBKDF2, tens of milliseconds of CPU each) at most
/// <c>concurrency</c> at a time, with at most <c>queue</c> more waiting; beyond that the request is turned away (503).
/// The per-address and per-account limits bound what one client makes the server hash; this bounds what all of them
/// do together (many addresses, made-up names, <c>--failed-logins-per-address 0</c>), so that logins never take more
/// than their share of the cores the zones step on.
/// </summary>
public sealed class PasswordWork(int concurrency, int queue) : IDisposable
{
    /// <summary>Half the cores (at least one) hash at once; 64 more wait.</summary>
    public static PasswordWork ForThisMachine() => new(Math.Max(1, Environment.ProcessorCount / 2), 64);

    private readonly SemaphoreSlim _slots = new(concurrency, concurrency);
    private int _queued;

    public void Dispose() => _slots.Dispose();

    /// <summary>Hashes running now.</summary>
    public int Running => concurrency - _slots.CurrentCount;

    /// <summary>Runs <paramref name="work"/> when a slot is free; <c>Ran</c> false (nothing run) when too many wait already.</summary>
    public async Task<(bool Ran, T Result)> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Interlocked.Increment(ref _queued) > concurrency + queue)
        {
            Interlocked.Decrement(ref _queued);
            return (false, default!);
        }
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return (true, work());
            }
            finally
            {
                _slots.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }
    }
}
