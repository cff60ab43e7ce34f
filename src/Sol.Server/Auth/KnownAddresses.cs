using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Persistence.Model;

namespace Sol.Server.Auth;

/// <summary>
/// The client addresses (an IPv4 address or an IPv6 /64) each password account was used from — registered, logged in
/// or refreshed — in the last 30 days, its newest 16: the per-account limit on failed logins does not hold them (its
/// owner's, most likely). Kept in the database (<c>account_addresses</c>), so that a restart forgets none, and cached
/// here per account, read on its first need. The database holds keyed hashes, not addresses: the key is made from the
/// JWT secret.
/// </summary>
public sealed class KnownAddresses
{
    /// <summary>Addresses kept per account (the newest): one account used from many cannot fill the table.</summary>
    public const int PerAccount = 16;

    /// <summary>Accounts cached (those used longest ago are dropped beyond it, and read again when needed).</summary>
    public const int AccountsCached = 100_000;

    /// <summary>How long an address stays known after its last use.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(30);

    // An address known this recently is not written again: an hourly refresh writes once a day.
    private static readonly TimeSpan s_writtenWithin = TimeSpan.FromDays(1);

    private readonly IPlayerStore _store;
    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly int _accountsCached;
    private readonly ConcurrentDictionary<Guid, AccountUses> _accounts = new();

    /// <param name="secret">The JWT secret: the addresses' key is made from it.</param>
    /// <param name="accountsCached">Accounts cached (tests: fewer than <see cref="AccountsCached"/>).</param>
    public KnownAddresses(IPlayerStore store, ReadOnlySpan<byte> secret, TimeProvider time, ILogger log, int accountsCached = AccountsCached)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(accountsCached, 2);
        _store = store;
        _accountsCached = accountsCached;
        _key = HMACSHA256.HashData(secret, "sol: known addresses"u8);
        _time = time;
        _log = log;
    }

    /// <summary>Accounts cached (tests).</summary>
    public int Cached => _accounts.Count;

    /// <summary>
    /// Whether <paramref name="account"/> was used from <paramref name="address"/> within <see cref="KeptFor"/>. False
    /// when the database cannot be read (the address is then held by the per-account limit, as a stranger's).
    /// </summary>
    public async ValueTask<bool> KnowsAsync(Guid account, string address, CancellationToken cancellationToken)
    {
        var known = await LoadAsync(account, cancellationToken).ConfigureAwait(false);
        return known?.SeenAt(Key(address)) is { } at && _time.GetUtcNow() - at < KeptFor;
    }

    /// <summary>
    /// Notes that <paramref name="account"/> was used from <paramref name="address"/> now, here and in the database
    /// (unless the database has a use of it from within a day). A database that fails is a warning: the use is then
    /// known until a restart, and the next use writes it again (helper-65: it was skipped for a day).
    /// </summary>
    public async Task RememberAsync(Guid account, string address, CancellationToken cancellationToken)
    {
        var key = Key(address);
        var now = _time.GetUtcNow();
        var known = await LoadAsync(account, cancellationToken).ConfigureAwait(false) ?? Cache(account);
        known.Add(key, now);
        if (known.WrittenAt(key) is { } written && now - written < s_writtenWithin)
        {
            return;
        }
        try
        {
            await _store.SaveAccountAddressAsync(account, key, now, PerAccount, now - KeptFor, cancellationToken).ConfigureAwait(false);
            known.Written(key, now);
        }
        catch (Exception e) when (e is StoreUnavailableException or System.Data.Common.DbException or TimeoutException)
        {
            _log.LogWarning("An address account {Account} was used from was not written to the database ({Reason}): a restart forgets it", account, e.Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>
    /// The account's cached addresses, read from the database when not cached; when it cannot be read, the uses noted in
    /// this process (null: none).
    /// </summary>
    private async ValueTask<AccountUses?> LoadAsync(Guid account, CancellationToken cancellationToken)
    {
        if (_accounts.TryGetValue(account, out var cached) && cached.Loaded)
        {
            return cached;
        }
        IReadOnlyList<AccountAddress> rows;
        try
        {
            rows = await _store.ListAccountAddressesAsync(account, _time.GetUtcNow() - KeptFor, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreUnavailableException or System.Data.Common.DbException or TimeoutException)
        {
            _log.LogDebug("Cannot read the addresses account {Account} was used from ({Reason})", account, e.Message.ReplaceLineEndings(" "));
            return _accounts.TryGetValue(account, out var noted) ? noted : null; // what this process noted, if anything
        }
        var known = Cache(account);
        known.Load(rows); // merged: a use noted meanwhile stays
        return known;
    }

    private AccountUses Cache(Guid account)
    {
        if (_accounts.TryGetValue(account, out var known))
        {
            return known;
        }
        if (_accounts.Count >= _accountsCached)
        {
            // Full: the half used longest ago goes (they are read again from the database when needed).
            var cutoff = _accounts.Values.Select(static a => a.Last).Order().ElementAt(_accounts.Count / 2);
            foreach (var (id, old) in _accounts)
            {
                if (old.Last <= cutoff)
                {
                    _accounts.TryRemove(new KeyValuePair<Guid, AccountUses>(id, old));
                }
            }
        }
        return _accounts.GetOrAdd(account, static _ => new AccountUses());
    }

    /// <summary>The key an address is kept under: 128 bits of its HMAC-SHA256, in hex.</summary>
    private string Key(string address)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(address), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>One account's newest <see cref="PerAccount"/> addresses, with when each was last used.</summary>
    private sealed class AccountUses
    {
        private readonly List<(string Key, DateTimeOffset At)> _addresses = [];
        // The uses the database holds (a mirror of its rows: its newest 16 by their own times, which the cache's
        // eviction by use times need not match; helper-66).
        private readonly Dictionary<string, DateTimeOffset> _written = new(StringComparer.Ordinal);

        /// <summary>Whether the database's rows are in (else only uses noted in this process).</summary>
        public bool Loaded { get; private set; }

        public DateTimeOffset Last { get; private set; } = DateTimeOffset.MinValue;

        /// <summary>Notes a use (a later one than known replaces it).</summary>
        public void Add(string key, DateTimeOffset at)
        {
            lock (_addresses)
            {
                Note(key, at);
            }
        }

        public void Load(IReadOnlyList<AccountAddress> rows)
        {
            lock (_addresses)
            {
                foreach (var row in rows)
                {
                    Note(row.Address, row.SeenAt);
                    if (!_written.TryGetValue(row.Address, out var written) || written < row.SeenAt)
                    {
                        _written[row.Address] = row.SeenAt;
                    }
                }
                Loaded = true;
            }
        }

        /// <summary>The latest use of <paramref name="key"/> the database is known to hold (null: none known).</summary>
        public DateTimeOffset? WrittenAt(string key)
        {
            lock (_addresses)
            {
                return _written.TryGetValue(key, out var at) ? at : null;
            }
        }

        /// <summary>Notes that the database holds the use of <paramref name="key"/> at <paramref name="at"/>.</summary>
        public void Written(string key, DateTimeOffset at)
        {
            lock (_addresses)
            {
                if (!_written.TryGetValue(key, out var before) || before < at)
                {
                    _written[key] = at;
                }
                // As the database's write trims: its newest PerAccount rows.
                while (_written.Count > PerAccount)
                {
                    var oldest = _written.MinBy(w => w.Value).Key;
                    _written.Remove(oldest);
                }
            }
        }

        public DateTimeOffset? SeenAt(string key)
        {
            lock (_addresses)
            {
                foreach (var (k, at) in _addresses)
                {
                    if (k == key)
                    {
                        return at;
                    }
                }
                return null;
            }
        }

        /// <summary>Keeps the later of <paramref name="at"/> and the use known of <paramref name="key"/> (under the lock).</summary>
        private void Note(string key, DateTimeOffset at)
        {
            var before = Remove(key);
            Keep(key, before is { } seen && seen > at ? seen : at);
        }

        private DateTimeOffset? Remove(string key)
        {
            var i = _addresses.FindIndex(a => a.Key == key);
            if (i < 0)
            {
                return null;
            }
            var at = _addresses[i].At;
            _addresses.RemoveAt(i);
            return at;
        }

        /// <summary>Adds in time order (oldest first), dropping the oldest beyond <see cref="PerAccount"/>.</summary>
        private void Keep(string key, DateTimeOffset at)
        {
            var i = _addresses.Count;
            while (i > 0 && _addresses[i - 1].At > at)
            {
                i--;
            }
            _addresses.Insert(i, (key, at));
            if (_addresses.Count > PerAccount)
            {
                _addresses.RemoveAt(0);
            }
            if (at > Last)
            {
                Last = at;
            }
        }
    }
}
