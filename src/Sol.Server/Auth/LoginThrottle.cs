using System.Collections.Concurrent;

namespace Sol.Server.Auth;

/// <summary>
/// Limits failed password logins per account and per client address over a sliding window; past the limit a login is
/// refused (HTTP 429) before the password is even checked. In memory, per process; entries expire with their window.
/// </summary>
public sealed class LoginThrottle(TimeProvider time, int perAccount = 5, int perAddress = 20, TimeSpan? window = null)
{
    private readonly TimeSpan _window = window ?? TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);

    /// <summary>How long until a login for this account from this address may be tried again; zero when it may now.</summary>
    public TimeSpan RetryAfter(string accountKey, string address)
    {
        var now = time.GetUtcNow();
        return Max(Wait("a:" + accountKey, perAccount, now), Wait("i:" + address, perAddress, now));
    }

    public void Failed(string accountKey, string address)
    {
        var now = time.GetUtcNow();
        Record("a:" + accountKey, now);
        Record("i:" + address, now);
        if (_failures.Count > 100_000)
        {
            Sweep(now);
        }
    }

    public void Succeeded(string accountKey) => _failures.TryRemove("a:" + accountKey, out _);

    private TimeSpan Wait(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var failures))
        {
            return TimeSpan.Zero;
        }
        lock (failures)
        {
            failures.Trim(now - _window);
            return failures.Times.Count >= limit ? failures.Times.Peek() + _window - now : TimeSpan.Zero;
        }
    }

    private void Record(string key, DateTimeOffset now)
    {
        var failures = _failures.GetOrAdd(key, static _ => new Failures());
        lock (failures)
        {
            failures.Trim(now - _window);
            failures.Times.Enqueue(now);
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, failures) in _failures)
        {
            lock (failures)
            {
                failures.Trim(now - _window);
                if (failures.Times.Count == 0)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class Failures
    {
        public Queue<DateTimeOffset> Times { get; } = new();

        public void Trim(DateTimeOffset cutoff)
        {
            while (Times.Count > 0 && Times.Peek() <= cutoff)
            {
                Times.Dequeue();
            }
        }
    }
}
