using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Auth;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class KnownAddressesTests : IAsyncLifetime
{
    private static readonly byte[] s_secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    private readonly TempDirectory _directory = new();
    private readonly ManualClock _clock = new();
    private ISolStore _store = null!;

    public async Task InitializeAsync() => _store = await SolStore.OpenAsync(_directory.File("sol.db"));

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    private KnownAddresses Known(IPlayerStore? store = null, int accountsCached = KnownAddresses.AccountsCached) =>
        new(store ?? _store, s_secret, _clock, NullLogger.Instance, accountsCached);

    [Fact]
    public async Task AUseIsKnownForThirtyDaysForThatAccountAndAddressOnly()
    {
        var known = Known();
        var (ada, grace) = (Guid.NewGuid(), Guid.NewGuid());
        Assert.False(await known.KnowsAsync(ada, "1.2.3.4", default));
        await known.RememberAsync(ada, "1.2.3.4", default);
        Assert.True(await known.KnowsAsync(ada, "1.2.3.4", default));
        Assert.False(await known.KnowsAsync(ada, "1.2.3.5", default));
        Assert.False(await known.KnowsAsync(grace, "1.2.3.4", default));
        _clock.Advance(TimeSpan.FromDays(29));
        Assert.True(await known.KnowsAsync(ada, "1.2.3.4", default));
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.False(await known.KnowsAsync(ada, "1.2.3.4", default));
    }

    [Fact]
    public async Task ARestartForgetsNoUse()
    {
        // helper-61: the known addresses were in memory only; after a restart 100 wrong passwords from 100 addresses
        // held the owner out again.
        var ada = Guid.NewGuid();
        await Known().RememberAsync(ada, "198.51.100.1", default);
        _clock.Advance(TimeSpan.FromDays(3));
        var restarted = Known();
        Assert.True(await restarted.KnowsAsync(ada, "198.51.100.1", default));
        Assert.False(await restarted.KnowsAsync(ada, "198.51.100.2", default));
        _clock.Advance(TimeSpan.FromDays(28)); // 31 days after the use
        Assert.False(await Known().KnowsAsync(ada, "198.51.100.1", default));
    }

    [Fact]
    public async Task TheDatabaseHoldsKeyedHashesNotAddresses()
    {
        var ada = Guid.NewGuid();
        await Known().RememberAsync(ada, "198.51.100.1", default);
        var row = Assert.Single(await _store.ListAccountAddressesAsync(ada, DateTimeOffset.MinValue));
        Assert.Matches("^[0-9a-f]{32}$", row.Address);
        Assert.Equal(_clock.GetUtcNow(), row.SeenAt);

        // Another secret makes other keys: the rows of one server say nothing to a reader without its secret.
        var other = new KnownAddresses(_store, new byte[32], _clock, NullLogger.Instance);
        Assert.False(await other.KnowsAsync(ada, "198.51.100.1", default));
    }

    [Fact]
    public async Task AnAccountUsedFromManyAddressesKeepsOnlyItsNewest()
    {
        // helper-60: one account logging in from 100,000 /64s could push every owner's address out of the table.
        var known = Known();
        var (owner, roamer) = (Guid.NewGuid(), Guid.NewGuid());
        await known.RememberAsync(owner, "198.51.100.1", default);
        for (var i = 0; i < 40; i++)
        {
            await known.RememberAsync(roamer, $"2001:db8:{i:x}::/64", default);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.True(await known.KnowsAsync(owner, "198.51.100.1", default));
        foreach (var view in new[] { known, Known() }) // cached, and read again from the database
        {
            var kept = 0;
            for (var i = 0; i < 40; i++)
            {
                kept += await view.KnowsAsync(roamer, $"2001:db8:{i:x}::/64", default) ? 1 : 0;
            }
            Assert.Equal(KnownAddresses.PerAccount, kept);
            Assert.True(await view.KnowsAsync(roamer, "2001:db8:27::/64", default)); // the newest
        }
        Assert.Equal(KnownAddresses.PerAccount, (await _store.ListAccountAddressesAsync(roamer, DateTimeOffset.MinValue)).Count);
    }

    [Fact]
    public async Task TheCacheStaysBoundedAndWhatLeftItIsReadAgain()
    {
        var known = Known(accountsCached: 10);
        var accounts = Enumerable.Range(0, 25).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var account in accounts)
        {
            await known.RememberAsync(account, "10.0.0.1", default);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.InRange(known.Cached, 5, 10);
        foreach (var account in accounts)
        {
            Assert.True(await known.KnowsAsync(account, "10.0.0.1", default));
        }
    }

    [Fact]
    public async Task AUseKnownWithinADayIsNotWrittenAgain()
    {
        var store = new CountingStore(_store);
        var known = Known(store);
        var ada = Guid.NewGuid();
        await known.RememberAsync(ada, "1.2.3.4", default);
        _clock.Advance(TimeSpan.FromHours(1)); // an hourly token refresh
        await known.RememberAsync(ada, "1.2.3.4", default);
        Assert.Equal(1, store.Writes);
        _clock.Advance(TimeSpan.FromDays(1));
        await known.RememberAsync(ada, "1.2.3.4", default);
        Assert.Equal(2, store.Writes);
        Assert.Equal(_clock.GetUtcNow(), Assert.Single(await _store.ListAccountAddressesAsync(ada, DateTimeOffset.MinValue)).SeenAt);
    }

    [Fact]
    public async Task ADatabaseThatFailsMakesAStrangerAndAWarningNotAnError()
    {
        var store = new FailingStore(_store);
        var log = new ListLogger();
        var known = new KnownAddresses(store, s_secret, _clock, log);
        var ada = Guid.NewGuid();
        Assert.False(await known.KnowsAsync(ada, "1.2.3.4", default)); // unreadable: held by the per-account limit
        await known.RememberAsync(ada, "1.2.3.4", default);
        Assert.Contains(log.Warnings, w => w.Contains("was not written to the database", StringComparison.Ordinal));
        Assert.True(await known.KnowsAsync(ada, "1.2.3.4", default)); // known in this process all the same

        // Once the database answers again, its rows join what was noted meanwhile.
        await Known().RememberAsync(ada, "5.6.7.8", default);
        store.Failing = false;
        Assert.True(await known.KnowsAsync(ada, "5.6.7.8", default));
        Assert.True(await known.KnowsAsync(ada, "1.2.3.4", default));
    }

    [Fact]
    public async Task AWriteThatFailedIsTriedAgainAtTheNextUse()
    {
        // helper-65: the failed use was noted in memory first, and the next use within a day skipped the write: a restart
        // in that day forgot the owner's address.
        var store = new FlakyStore(_store) { FailingSaves = 1 };
        var known = Known(store);
        var ada = Guid.NewGuid();
        await known.RememberAsync(ada, "1.2.3.4", default); // the write fails
        _clock.Advance(TimeSpan.FromHours(1));
        await known.RememberAsync(ada, "1.2.3.4", default);
        Assert.Equal(2, store.Saves);
        Assert.True(await Known().KnowsAsync(ada, "1.2.3.4", default)); // a restart knows it
        _clock.Advance(TimeSpan.FromHours(1));
        await known.RememberAsync(ada, "1.2.3.4", default);
        Assert.Equal(2, store.Saves); // written within the day: not again
    }

    [Fact]
    public async Task AUseWhoseRowTheDatabaseTrimmedIsWrittenAgain()
    {
        // helper-66: the database keeps its newest 16 rows by their own times, the cache evicted by its use times; an
        // address the database had dropped was still "written within a day" to the cache, and a restart forgot it.
        var known = Known();
        var ada = Guid.NewGuid();
        await known.RememberAsync(ada, "10.0.0.1", default); // A written
        _clock.Advance(TimeSpan.FromMinutes(1));
        await known.RememberAsync(ada, "10.0.0.2", default); // C written
        _clock.Advance(TimeSpan.FromMinutes(1));
        await known.RememberAsync(ada, "10.0.0.1", default); // A again: not written (the database has it from 2 minutes ago)
        for (var i = 0; i < 15; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            await known.RememberAsync(ada, $"10.1.{i}.1", default);
        }
        // The database dropped its oldest row, A's first use; the cache dropped C.
        _clock.Advance(TimeSpan.FromMinutes(10));
        await known.RememberAsync(ada, "10.0.0.1", default);
        Assert.True(await Known().KnowsAsync(ada, "10.0.0.1", default), "a restart forgot an address used 10 minutes ago");
    }

    private sealed class CountingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        public int Writes;

        public override Task SaveAccountAddressAsync(Guid accountId, string address, DateTimeOffset at, int keep, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Writes);
            return base.SaveAccountAddressAsync(accountId, address, at, keep, forgetBefore, cancellationToken);
        }
    }

    private sealed class FlakyStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        public int FailingSaves;
        public int Saves;

        public override Task SaveAccountAddressAsync(Guid accountId, string address, DateTimeOffset at, int keep, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default)
        {
            Saves++;
            return FailingSaves-- > 0 ? throw new SqliteException("database is locked", 5) : base.SaveAccountAddressAsync(accountId, address, at, keep, forgetBefore, cancellationToken);
        }
    }

    private sealed class FailingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        public volatile bool Failing = true;

        public override Task SaveAccountAddressAsync(Guid accountId, string address, DateTimeOffset at, int keep, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default) =>
            Failing ? throw new SqliteException("database is locked", 5) : base.SaveAccountAddressAsync(accountId, address, at, keep, forgetBefore, cancellationToken);

        public override Task<IReadOnlyList<AccountAddress>> ListAccountAddressesAsync(Guid accountId, DateTimeOffset since, CancellationToken cancellationToken = default) =>
            Failing ? throw new SqliteException("database is locked", 5) : base.ListAccountAddressesAsync(accountId, since, cancellationToken);
    }
}
