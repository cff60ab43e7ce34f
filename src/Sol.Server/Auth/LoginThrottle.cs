using System.Collections.Concurrent;

namespace Sol.Server.Auth;

/// <summary>
/// Limits attempts per key (an account, a client address) over a sliding window: past the limit an attempt is refused
/// (HTTP 429) before any work is done for it. An attempt is counted when it begins, so attempts made at the same moment
/// cannot get past the limit together; one that succeeds may be forgotten again (<see cref="Forget"/>). In memory, per
/// process; a key's entry expires with its window (a sweep at most once a window drops the expired ones).
/// </summary>
public sealed class LoginThrottle(TimeProvider time, TimeSpan? window = null)
{
    /// <summary>
    /// Failed password logins per account from one client address (an IPv6 /64) per window. Keyed by both, so that
    /// nobody elsewhere can lock the account's owner out with five wrong passwords.
    /// </summary>
    public const int PerAccount = 5;

    /// <summary>
    /// Failed password logins per account over all addresses per window: guessing from many addresses. An address the
    /// account was used from before (<see cref="KnownAddresses"/>) is not held by it.
    /// </summary>
    public const int PerAccountAllAddresses = 100;

    /// <summary>Failed password logins per client address per window.</summary>
    public const int PerAddress = 20;

    private readonly TimeSpan _window = window ?? TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, Attempts> _attempts = new(StringComparer.Ordinal);
    private long _nextSweep = long.MinValue; // UTC ticks

    /// <summary>Keys held (tests: entries expire).</summary>
    public int Count => _attempts.Count;

    /// <summary>
    /// Counts one attempt for every key, each within its limit; when one is at its limit nothing is counted and the
    /// wait until it may be tried again is returned (else zero). A limit of 0 or less is none (that key is not counted).
    /// </summary>
    public TimeSpan TryBegin(params ReadOnlySpan<(string Key, int Limit)> keys)
    {
        var now = time.GetUtcNow();
        SweepNow(now);
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i].Limit <= 0)
            {
                continue; // no limit (and nothing counted, so nothing to give back)
            }
            var wait = Reserve(keys[i].Key, keys[i].Limit, now);
            if (wait > TimeSpan.Zero)
            {
                for (var j = 0; j < i; j++)
                {
                    if (keys[j].Limit > 0)
                    {
                        Release(keys[j].Key);
                    }
                }
                return wait;
            }
        }
        return TimeSpan.Zero;
    }

    /// <summary>Forgets every attempt of <paramref name="key"/> (an account that logged in).</summary>
    public void Forget(string key)
    {
        if (_attempts.TryRemove(key, out var attempts))
        {
            lock (attempts)
            {
                attempts.Removed = true; // an attempt being counted into it goes to a fresh entry instead
            }
        }
    }

    /// <summary>Gives back the last attempt counted for <paramref name="key"/> (an address whose login succeeded).</summary>
    public void Release(string key)
    {
        if (_attempts.TryGetValue(key, out var attempts))
        {
            lock (attempts)
            {
                attempts.RemoveNewest();
            }
        }
    }

    private TimeSpan Reserve(string key, int limit, DateTimeOffset now)
    {
        while (true)
        {
            var attempts = _attempts.GetOrAdd(key, static _ => new Attempts());
            lock (attempts)
            {
                if (attempts.Removed)
                {
                    continue; // swept meanwhile: take the fresh entry
                }
                attempts.Trim(now - _window);
                if (attempts.Count >= limit)
                {
                    return attempts.Oldest + _window - now;
                }
                attempts.Add(now);
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Drops the entries with nothing left in their window, at most once a window.</summary>
    private void SweepNow(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextSweep, now.UtcTicks + _window.Ticks, due) != due)
        {
            return;
        }
        foreach (var (key, attempts) in _attempts)
        {
            lock (attempts)
            {
                attempts.Trim(now - _window);
                if (attempts.Count == 0)
                {
                    attempts.Removed = true;
                    _attempts.TryRemove(new KeyValuePair<string, Attempts>(key, attempts)); // this entry, not a newer one
                }
            }
        }
    }

    private sealed class Attempts
    {
        private readonly List<DateTimeOffset> _times = [];

        public bool Removed { get; set; }

        public int Count => _times.Count;

        public DateTimeOffset Oldest => _times[0];

        public void Add(DateTimeOffset at) => _times.Add(at);

        public void RemoveNewest()
        {
            if (_times.Count > 0)
            {
                _times.RemoveAt(_times.Count - 1);
            }
        }

        public void Trim(DateTimeOffset cutoff)
        {
            var expired = 0;
            while (expired < _times.Count && _times[expired] <= cutoff)
            {
                expired++;
            }
            _times.RemoveRange(0, expired);
        }
    }
}
