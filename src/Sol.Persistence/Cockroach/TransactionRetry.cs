using Npgsql;

namespace Sol.Persistence.Cockroach;

/// <summary>
/// CockroachDB's client-side retry rule: a transaction that fails with SQLSTATE 40001 (serialization failure; CockroachDB
/// says "restart transaction") is rolled back and run again from the start, after a jittered exponential backoff.
/// PostgreSQL at SERIALIZABLE raises the same code for the same reason, which is how the tests provoke it.
/// </summary>
internal sealed class TransactionRetry
{
    private long _retries;

    public TransactionRetry(int maxAttempts = 12, TimeSpan? baseDelay = null, TimeSpan? maxDelay = null)
    {
        MaxAttempts = maxAttempts;
        BaseDelay = baseDelay ?? TimeSpan.FromMilliseconds(5);
        MaxDelay = maxDelay ?? TimeSpan.FromSeconds(1);
    }

    public int MaxAttempts { get; }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    /// <summary>Transactions run again after a serialization failure, since start.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public static bool IsRetryable(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure } ||
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure };

    /// <summary>The pause before attempt <paramref name="attempt"/> (1 = first retry): "full jitter" over an exponential cap.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)));
#pragma warning disable CA5394 // Jitter, not security.
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap);
#pragma warning restore CA5394
    }

    public void CountRetry() => Interlocked.Increment(ref _retries);
}
