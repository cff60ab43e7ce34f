using Sol.Core.Galaxy;
using Sol.Persistence.Model;

namespace Sol.Persistence.Tests;

/// <summary>
/// The behaviour every store must have, run unchanged against SQLite and PostgreSQL (standing in for CockroachDB).
/// Each test gets a fresh, migrated database.
/// </summary>
public abstract class StoreContract
{
    private static readonly GalaxyModel s_small = GalaxyGenerator.Generate("andromeda", GalaxyParameters.Default(300, 11));

    /// <summary>A fresh, migrated store; null means "skip" (PostgreSQL outside CI without a cluster).</summary>
    protected abstract Task<ISolStore?> CreateStoreAsync();

    private async Task<ISolStore> StoreAsync()
    {
        var store = await CreateStoreAsync();
        Skip.If(store is null, "no PostgreSQL cluster configured (run scripts/test.sh)");
        return store!;
    }

    [SkippableFact]
    public async Task MigratingTwiceChangesNothingAndReportsTheVersion()
    {
        await using var store = await StoreAsync();
        await store.MigrateAsync();
        await Task.WhenAll(store.MigrateAsync(), store.MigrateAsync(), store.MigrateAsync());
        Assert.Equal(6, await store.SchemaVersionAsync());
        Assert.Equal(6, await ((SqlStore)store).CountRowsAsync("schema_migrations"));
    }

    [SkippableFact]
    public async Task AGalaxyRoundTripsBitForBit()
    {
        await using var store = await StoreAsync();
        var saved = await store.SaveGalaxyAsync(s_small, replace: false);
        var loaded = await store.LoadGalaxyAsync("andromeda");
        Assert.NotNull(loaded);
        var (summary, model) = loaded.Value;
        Assert.Equal(saved.Id, summary.Id);
        Assert.Equal(s_small.ContentHash, model.ContentHash);
        Assert.Equal(s_small.Parameters, model.Parameters);
        Assert.Equal(s_small.Systems, model.Systems);
        Assert.Equal(s_small.Stars, model.Stars);
        Assert.Equal(s_small.Planets, model.Planets);
        Assert.Equal(s_small.Gates, model.Gates);
        Assert.Equal((s_small.Stars.Length, s_small.Planets.Length, s_small.Gates.Length), (summary.Stars, summary.Planets, summary.Gates));
    }

    [SkippableFact]
    public async Task ASeedWithTheHighBitSetSurvivesTheSignedColumn()
    {
        await using var store = await StoreAsync();
        var galaxy = GalaxyGenerator.Generate("big-seed", GalaxyParameters.Default(20, ulong.MaxValue - 5));
        await store.SaveGalaxyAsync(galaxy, replace: false);
        var found = await store.FindGalaxyAsync("big-seed");
        Assert.Equal(ulong.MaxValue - 5, found!.Parameters.Seed);
    }

    [SkippableFact]
    public async Task SavingATakenNameWithoutReplaceFailsAndKeepsTheFirst()
    {
        await using var store = await StoreAsync();
        await store.SaveGalaxyAsync(s_small, replace: false);
        var other = GalaxyGenerator.Generate("andromeda", GalaxyParameters.Default(50, 99));
        await Assert.ThrowsAsync<GalaxyExistsException>(() => store.SaveGalaxyAsync(other, replace: false));
        Assert.Equal(s_small.ContentHash, (await store.FindGalaxyAsync("andromeda"))!.ContentHash);
        Assert.Equal(1, await ((SqlStore)store).CountRowsAsync("galaxies"));
        Assert.Equal(s_small.Systems.Length, await ((SqlStore)store).CountRowsAsync("systems"));
    }

    [SkippableFact]
    public async Task ReplaceSwapsTheGalaxyAndDeletesEveryRowOfTheOldOne()
    {
        await using var store = await StoreAsync();
        var first = await store.SaveGalaxyAsync(s_small, replace: false);
        await store.SavePlayersAsync([NewPlayer(first.Id, Guid.NewGuid())]);
        var second = GalaxyGenerator.Generate("andromeda", GalaxyParameters.Default(40, 5));
        await store.SaveGalaxyAsync(second, replace: true);

        var loaded = await store.LoadGalaxyAsync("andromeda");
        Assert.Equal(second.ContentHash, loaded!.Value.Model.ContentHash);
        var sql = (SqlStore)store;
        Assert.Equal(1, await sql.CountRowsAsync("galaxies"));
        Assert.Equal(second.Systems.Length, await sql.CountRowsAsync("systems"));
        Assert.Equal(second.Planets.Length, await sql.CountRowsAsync("planets"));
        Assert.Equal(second.Gates.Length, await sql.CountRowsAsync("gates"));
        Assert.Equal(0, await sql.CountRowsAsync("players"));
        Assert.Equal(0, await sql.CountRowsAsync("player_explored"));
    }

    [SkippableFact]
    public async Task AnInterruptedReplaceLeavesTheOldGalaxyWholeAndNoTrace()
    {
        await using var store = await StoreAsync();
        await store.SaveGalaxyAsync(s_small, replace: false);
        var replacement = GalaxyGenerator.Generate("andromeda", GalaxyParameters.Default(120, 77));
        using var cancel = new CancellationTokenSource();
        // Cancel just before the publishing transaction: every body row of the new galaxy is written by then.
        var progress = new SynchronousProgress(message =>
        {
            if (message == "publishing")
            {
                cancel.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SaveGalaxyAsync(replacement, replace: true, progress, cancel.Token));

        var loaded = await store.LoadGalaxyAsync("andromeda");
        Assert.Equal(s_small.ContentHash, loaded!.Value.Model.ContentHash);
        var sql = (SqlStore)store;
        Assert.Equal(1, await sql.CountRowsAsync("galaxies"));
        Assert.Equal(s_small.Systems.Length, await sql.CountRowsAsync("systems"));
        Assert.Equal(s_small.Gates.Length, await sql.CountRowsAsync("gates"));
    }

    [SkippableFact]
    public async Task ListShowsEveryGalaxyWithItsCountsAndDeleteRemovesOne()
    {
        await using var store = await StoreAsync();
        await store.SaveGalaxyAsync(s_small, replace: false);
        var tiny = GalaxyGenerator.Generate("tiny", GalaxyParameters.Default(10, 3));
        await store.SaveGalaxyAsync(tiny, replace: false);

        var list = await store.ListGalaxiesAsync();
        Assert.Equal(["andromeda", "tiny"], list.Select(g => g.Name));
        Assert.Equal(tiny.Gates.Length, list[1].Gates);
        Assert.Equal(10, list[1].Parameters.Zones);

        Assert.True(await store.DeleteGalaxyAsync("tiny"));
        Assert.False(await store.DeleteGalaxyAsync("tiny"));
        Assert.Null(await store.LoadGalaxyAsync("tiny"));
        Assert.Equal(s_small.Systems.Length, await ((SqlStore)store).CountRowsAsync("systems"));
    }

    [SkippableFact]
    public async Task DeletingAGalaxyOfManyBatchesTakesAllItsRowsAndNoneOfAnothers()
    {
        await using var store = await StoreAsync();
        await store.SaveGalaxyAsync(s_small, replace: false);
        // More than one delete batch (10,000 rows) of systems, planets and gates, with a batch's edge in each table.
        var big = GalaxyGenerator.Generate("big", GalaxyParameters.Default(12_000, 11));
        await store.SaveGalaxyAsync(big, replace: false);
        var sql = (SqlStore)store;
        Assert.True(await sql.CountRowsAsync("gates") > 20_000);

        Assert.True(await store.DeleteGalaxyAsync("big"));

        Assert.Equal(1, await sql.CountRowsAsync("galaxies"));
        Assert.Equal(s_small.Systems.Length, await sql.CountRowsAsync("systems"));
        Assert.Equal(s_small.Stars.Length, await sql.CountRowsAsync("stars"));
        Assert.Equal(s_small.Planets.Length, await sql.CountRowsAsync("planets"));
        Assert.Equal(s_small.Gates.Length, await sql.CountRowsAsync("gates"));
        Assert.Equal(s_small.ContentHash, (await store.LoadGalaxyAsync(s_small.Name))!.Value.Model.ContentHash);
    }

    [SkippableFact]
    public async Task PlayersWrittenForAGalaxyReplacedUnderThemAreSweptByTheNextGenerate()
    {
        await using var store = await StoreAsync();
        var old = await store.SaveGalaxyAsync(s_small, replace: false);
        var replacement = GalaxyGenerator.Generate(s_small.Name, GalaxyParameters.Default(30, 9));
        await store.SaveGalaxyAsync(replacement, replace: true);
        // A server still running on the old galaxy saves its players on and founds a colony (before: kept for ever,
        // nothing removed them).
        var colonist = NewPlayer(old.Id, Guid.NewGuid());
        await store.SavePlayersAsync([colonist, NewPlayer(old.Id, Guid.NewGuid())]);
        Assert.Equal(ColonizeOutcome.Founded, await store.ColonizeAsync(colonist.Id, 2, 0, 0, 100, DateTimeOffset.UtcNow));
        var sql = (SqlStore)store;
        Assert.Equal(2, await sql.CountRowsAsync("players"));
        Assert.Equal(1, await sql.CountRowsAsync("colonies"));

        await store.SaveGalaxyAsync(GalaxyGenerator.Generate("other", GalaxyParameters.Default(6, 2)), replace: false);
        Assert.Equal(0, await sql.CountRowsAsync("players"));
        Assert.Equal(0, await sql.CountRowsAsync("player_explored"));
        Assert.Equal(0, await sql.CountRowsAsync("colonies"));
    }

    [SkippableFact]
    public async Task UsernamesAreUniqueWhateverTheirCase()
    {
        await using var store = await StoreAsync();
        var ada = new Account(Guid.NewGuid(), "Ada", "hash", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        Assert.True(await store.CreateAccountAsync(ada));
        Assert.False(await store.CreateAccountAsync(new Account(Guid.NewGuid(), "ADA", "other", DateTimeOffset.UtcNow)));
        Assert.Equal(ada, await store.FindAccountByUsernameAsync("ada"));
        Assert.Equal(ada, await store.GetAccountAsync(ada.Id));
        Assert.Null(await store.FindAccountByUsernameAsync("grace"));
    }

    [SkippableFact]
    public async Task ADeviceGetsOneAccountEvenWhenItsFirstLoginsRace()
    {
        await using var store = await StoreAsync();
        var accounts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.FindOrCreateDeviceAccountAsync("device-1"))));
        Assert.Single(accounts.Select(a => a.Id).Distinct());
        Assert.Null(accounts[0].PasswordHash);
        Assert.Equal(accounts[0], await store.FindOrCreateDeviceAccountAsync("device-1"));
        Assert.NotEqual(accounts[0].Id, (await store.FindOrCreateDeviceAccountAsync("device-2")).Id);
        Assert.Equal(2, await ((SqlStore)store).CountRowsAsync("accounts"));
    }

    [SkippableFact]
    public async Task APlayerRoundTripsWithExploredRouteAndInventory()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var player = NewPlayer(galaxy.Id, Guid.NewGuid()) with
        {
            Zone = ZoneId.ForPlanet(7),
            Explored = [1, 4, 9],
            Route = [9, 4, 12],
            Inventory = [new InventoryItem("ore", 12), new InventoryItem("water", 3)],
        };
        await store.SavePlayersAsync([player]);
        var loaded = await store.LoadPlayerAsync(player.AccountId, galaxy.Id);
        AssertSamePlayer(player, loaded);
    }

    [SkippableFact]
    public async Task AnOlderSnapshotNeverOverwritesANewerOne()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var v2 = NewPlayer(galaxy.Id, Guid.NewGuid()) with { Version = 2, X = 200, Explored = [1, 2], Inventory = [new InventoryItem("ore", 2)] };
        await store.SavePlayersAsync([v2]);
        await store.SavePlayersAsync([v2 with { Version = 1, X = 100, Inventory = [new InventoryItem("ore", 1)] }]);
        AssertSamePlayer(v2, await store.LoadPlayerAsync(v2.AccountId, galaxy.Id));

        // In one batch the highest version of a player wins, whatever the order.
        var v4 = v2 with { Version = 4, X = 400, Explored = [1, 2, 3], Route = [3], Inventory = [] };
        await store.SavePlayersAsync([v4, v2 with { Version = 3, X = 300 }]);
        AssertSamePlayer(v4, await store.LoadPlayerAsync(v2.AccountId, galaxy.Id));

        // The same version again (a retried batch, or a record staged at the version a colonize gave the row) is not
        // newer either: the row and its route and inventory stay as they are.
        await store.SavePlayersAsync([v4 with { X = 444, Route = [2, 1], Inventory = [new InventoryItem("ore", 9)] }]);
        AssertSamePlayer(v4, await store.LoadPlayerAsync(v2.AccountId, galaxy.Id));
    }

    [SkippableFact]
    public async Task ARowTheDatabaseRefusesIsARefusalAndTakesItsBatchWithIt()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var good = NewPlayer(galaxy.Id, Guid.NewGuid());
        var taken = NewPlayer(galaxy.Id, Guid.NewGuid());
        await store.SavePlayersAsync([taken]);

        // Two kinds the game could produce by a bug: an item twice in one hold (the inventory's key), and a second
        // player of an account in the same galaxy (a unique index).
        var twice = NewPlayer(galaxy.Id, Guid.NewGuid()) with { Inventory = [new InventoryItem("ore", 1), new InventoryItem("ore", 2)] };
        var second = NewPlayer(galaxy.Id, taken.AccountId);
        foreach (var refused in new[] { twice, second })
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => store.SavePlayersAsync([good, refused]));
            Assert.True(StoreErrors.IsRefusal(error), $"{error.GetType().Name}: {error.Message}");
            Assert.Null(await store.LoadPlayerAsync(good.AccountId, galaxy.Id)); // one transaction: nothing of the batch
        }
        await store.SavePlayersAsync([good]);
        Assert.NotNull(await store.LoadPlayerAsync(good.AccountId, galaxy.Id));
    }

    [SkippableFact]
    public async Task AProbeWritesInFullAndChangesNothing()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var stored = NewPlayer(galaxy.Id, Guid.NewGuid()) with { Version = 7, X = 70, Explored = [1, 2], Route = [2], Inventory = [new InventoryItem("ore", 5)] };
        await store.SavePlayersAsync([stored]);

        // An older state of a stored player, and a player with no row: written as if newest, then rolled back.
        await store.ProbePlayerWriteAsync(stored with { Version = 3, X = -1, Explored = [1, 2, 3], Route = [], Inventory = [] });
        AssertSamePlayer(stored, await store.LoadPlayerAsync(stored.AccountId, galaxy.Id));
        var absent = NewPlayer(galaxy.Id, Guid.NewGuid()) with { Explored = [4] };
        await store.ProbePlayerWriteAsync(absent);
        Assert.Null(await store.LoadPlayerAsync(absent.AccountId, galaxy.Id));

        // A state the database refuses is refused by the probe too, whatever the stored version.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => store.ProbePlayerWriteAsync(stored with { Version = 1, Inventory = [new InventoryItem("ore", 1), new InventoryItem("ore", 2)] }));
        Assert.True(StoreErrors.IsRefusal(error), $"{error.GetType().Name}: {error.Message}");
        AssertSamePlayer(stored, await store.LoadPlayerAsync(stored.AccountId, galaxy.Id));
    }

    [SkippableFact]
    public async Task AThousandPlayersAreSavedInOneCall()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var players = Enumerable.Range(0, 1000)
            .Select(i => NewPlayer(galaxy.Id, Guid.NewGuid()) with { X = i, Explored = [1, 1 + (i % 50)], Inventory = [new InventoryItem("ore", i + 1)] })
            .ToList();
        await store.SavePlayersAsync(players);
        var sql = (SqlStore)store;
        Assert.Equal(1000, await sql.CountRowsAsync("players"));
        Assert.Equal(1000, await sql.CountRowsAsync("player_inventory"));
        AssertSamePlayer(players[637], await store.LoadPlayerAsync(players[637].AccountId, galaxy.Id));
    }

    [SkippableFact]
    public async Task ColonizingTakesCreditsAndAddsTheColonyTogetherOrNotAtAll()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var player = NewPlayer(galaxy.Id, Guid.NewGuid()) with { Credits = 1500 };
        await store.SavePlayersAsync([player]);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_000);

        Assert.Equal(ColonizeOutcome.Founded, await store.ColonizeAsync(player.Id, 5, 12.5, -7.25, 1000, now));
        Assert.Equal(ColonizeOutcome.AlreadyColonized, await store.ColonizeAsync(player.Id, 5, 0, 0, 1000, now));
        Assert.Equal(ColonizeOutcome.NotEnoughCredits, await store.ColonizeAsync(player.Id, 6, 0, 0, 1000, now));
        Assert.Equal(ColonizeOutcome.UnknownPlayer, await store.ColonizeAsync(Guid.NewGuid(), 6, 0, 0, 1, now));

        var after = await store.LoadPlayerAsync(player.AccountId, galaxy.Id);
        Assert.Equal(500, after!.Credits);
        Assert.Equal(player.Version + 1, after.Version);
        var colonies = await store.ListColoniesAsync(galaxy.Id);
        Assert.Equal([new Colony(galaxy.Id, 5, player.Id, now, 12.5, -7.25)], colonies);
        Assert.Empty(await store.ListColoniesAsync(galaxy.Id, [6]));
    }

    [SkippableFact]
    public async Task AGalaxysLeaseIsOneServersUntilItRunsOutOrIsReleased()
    {
        await using var store = await StoreAsync();
        var galaxy = (await store.SaveGalaxyAsync(s_small, replace: false)).Id;
        var other = Guid.NewGuid(); // another galaxy's lease is its own
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_000);
        var term = TimeSpan.FromSeconds(30);

        Assert.Equal(new GalaxyLease("a", t0 + term), await store.TakeGalaxyLeaseAsync(galaxy, "a", t0, term));
        Assert.Equal(new GalaxyLease("a", t0 + term), await store.TakeGalaxyLeaseAsync(galaxy, "b", t0.AddSeconds(29.999), term)); // a's still
        Assert.Equal(new GalaxyLease("c", t0 + term), await store.TakeGalaxyLeaseAsync(other, "c", t0, term));
        Assert.Equal(new GalaxyLease("a", t0.AddSeconds(40)), await store.TakeGalaxyLeaseAsync(galaxy, "a", t0.AddSeconds(10), term)); // renewed
        Assert.Equal(new GalaxyLease("a", t0.AddSeconds(40)), await store.TakeGalaxyLeaseAsync(galaxy, "b", t0.AddSeconds(39), term));
        // Ran out (a stopped without releasing it): b takes it, and a's renewal then finds b's.
        Assert.Equal(new GalaxyLease("b", t0.AddSeconds(70)), await store.TakeGalaxyLeaseAsync(galaxy, "b", t0.AddSeconds(40), term));
        Assert.Equal(new GalaxyLease("b", t0.AddSeconds(70)), await store.TakeGalaxyLeaseAsync(galaxy, "a", t0.AddSeconds(41), term));

        await store.ReleaseGalaxyLeaseAsync(galaxy, "a"); // not a's: nothing
        Assert.Equal(new GalaxyLease("b", t0.AddSeconds(70)), await store.TakeGalaxyLeaseAsync(galaxy, "a", t0.AddSeconds(42), term));
        await store.ReleaseGalaxyLeaseAsync(galaxy, "b"); // a clean stop: free at once
        Assert.Equal(new GalaxyLease("a", t0.AddSeconds(73)), await store.TakeGalaxyLeaseAsync(galaxy, "a", t0.AddSeconds(43), term));

        Assert.True(await store.DeleteGalaxyAsync("andromeda")); // a deleted galaxy's lease goes with it
        Assert.Equal(1, await ((SqlStore)store).CountRowsAsync("galaxy_leases"));
    }

    [SkippableFact]
    public async Task OfServersTakingAFreeLeaseAtOnceExactlyOneGetsIt()
    {
        await using var store = await StoreAsync();
        var galaxy = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.TakeGalaxyLeaseAsync(galaxy, $"server-{i}", now, TimeSpan.FromSeconds(30)))));
        var winner = Assert.Single(leases.Select(l => l.Holder).Distinct());
        Assert.StartsWith("server-", winner, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task LogoutsAreKeptUntilTheirTimeAndThenDropped()
    {
        await using var store = await StoreAsync();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()); // a save drops what is past
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        await store.SaveLogoutAsync(a, now.AddMinutes(61));
        await store.SaveLogoutAsync(b, now.AddMinutes(5));
        await store.SaveLogoutAsync(b, now.AddMinutes(30)); // logged out again: the later time
        Assert.Equal([new SessionLogout(b, now.AddMinutes(30)), new SessionLogout(a, now.AddMinutes(61))], (await store.ListLogoutsAsync(now)).OrderBy(l => l.Until));

        Assert.Equal([new SessionLogout(a, now.AddMinutes(61))], await store.ListLogoutsAsync(now.AddMinutes(30)));
        Assert.Equal(1, await ((SqlStore)store).CountRowsAsync("session_logouts")); // the expired one is gone
    }

    [SkippableFact]
    public async Task AnAccountsAddressesKeepTheirLatestUseAndOnlyTheNewestAndRecent()
    {
        await using var store = await StoreAsync();
        var t = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_000);
        var (ada, grace) = (Guid.NewGuid(), Guid.NewGuid());
        await store.SaveAccountAddressAsync(ada, "a", t, 3, t.AddDays(-30));
        await store.SaveAccountAddressAsync(ada, "b", t.AddMinutes(1), 3, t.AddDays(-30));
        await store.SaveAccountAddressAsync(grace, "a", t.AddMinutes(2), 3, t.AddDays(-30));
        await store.SaveAccountAddressAsync(ada, "a", t.AddMinutes(3), 3, t.AddDays(-30)); // used again: the later time
        await store.SaveAccountAddressAsync(ada, "a", t.AddMinutes(2), 3, t.AddDays(-30)); // an earlier time does not replace it
        Assert.Equal([new AccountAddress("a", t.AddMinutes(3)), new AccountAddress("b", t.AddMinutes(1))], await store.ListAccountAddressesAsync(ada, t.AddDays(-30)));
        Assert.Equal([new AccountAddress("a", t.AddMinutes(3))], await store.ListAccountAddressesAsync(ada, t.AddMinutes(2)));

        // Beyond `keep`, the oldest go; and those used before `forgetBefore`.
        await store.SaveAccountAddressAsync(ada, "c", t.AddMinutes(4), 3, t.AddDays(-30));
        await store.SaveAccountAddressAsync(ada, "d", t.AddMinutes(5), 3, t.AddDays(-30));
        Assert.Equal(["d", "c", "a"], (await store.ListAccountAddressesAsync(ada, DateTimeOffset.UnixEpoch)).Select(a => a.Address));
        await store.SaveAccountAddressAsync(ada, "e", t.AddDays(31), 3, t.AddDays(1));
        Assert.Equal(["e"], (await store.ListAccountAddressesAsync(ada, DateTimeOffset.UnixEpoch)).Select(a => a.Address));
        Assert.Equal([new AccountAddress("a", t.AddMinutes(2))], await store.ListAccountAddressesAsync(grace, DateTimeOffset.UnixEpoch)); // another account's are its own
        Assert.Equal(2, await ((SqlStore)store).CountRowsAsync("account_addresses"));

        // An account not used again keeps its rows until the sweep (at start-up) deletes those past their time.
        Assert.Equal(1, await store.ForgetAccountAddressesAsync(t.AddDays(1)));
        Assert.Empty(await store.ListAccountAddressesAsync(grace, DateTimeOffset.UnixEpoch));
        Assert.Equal(["e"], (await store.ListAccountAddressesAsync(ada, DateTimeOffset.UnixEpoch)).Select(a => a.Address));
    }

    [SkippableFact]
    public async Task ForgettingOldAddressesGoesInBatchesUntilNoneIsLeft()
    {
        await using var store = await StoreAsync();
        var t = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_000);
        var rows = Enumerable.Range(0, 10_500).Select(i => $"('{Guid.NewGuid()}', 'k{i}', {t.AddSeconds(i).ToUnixTimeMilliseconds()})");
        await ((SqlStore)store).ExecuteForTestsAsync("INSERT INTO account_addresses (account_id, address, seen_ms) VALUES " + string.Join(", ", rows));
        Assert.Equal(10_500, await store.ForgetAccountAddressesAsync(t.AddDays(1)));
        Assert.Equal(0, await ((SqlStore)store).CountRowsAsync("account_addresses"));
    }

    [SkippableFact]
    public async Task AVersionOneDatabaseKeepsItsColoniesAtTheSurfaceCentre()
    {
        await using var store = await StoreAsync();
        var galaxy = await store.SaveGalaxyAsync(s_small, replace: false);
        var player = NewPlayer(galaxy.Id, Guid.NewGuid()) with { Credits = 1500 };
        await store.SavePlayersAsync([player]);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_000);
        Assert.Equal(ColonizeOutcome.Founded, await store.ColonizeAsync(player.Id, 5, 12.5, -7.25, 1000, now));

        // As schema version 1 had it (no position), then migrated again.
        await ((SqlStore)store).ExecuteForTestsAsync(
            "ALTER TABLE colonies DROP COLUMN x; ALTER TABLE colonies DROP COLUMN y; DROP TABLE session_logouts; DROP TABLE account_addresses; DROP TABLE galaxy_leases; DELETE FROM schema_migrations WHERE version >= 2");
        Assert.Equal(1, await store.SchemaVersionAsync());
        await store.MigrateAsync();

        Assert.Equal(6, await store.SchemaVersionAsync());
        await store.SaveLogoutAsync(Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(1)); // and the tables of versions 3, 4 and 6 are there
        await store.TakeGalaxyLeaseAsync(galaxy.Id, "after-migration", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30));
        await store.SaveAccountAddressAsync(Guid.NewGuid(), "k", DateTimeOffset.UtcNow, 16, DateTimeOffset.UtcNow.AddDays(-30));
        Assert.Equal([new Colony(galaxy.Id, 5, player.Id, now, 0, 0)], await store.ListColoniesAsync(galaxy.Id));
        Assert.Equal(ColonizeOutcome.Founded, await store.ColonizeAsync(player.Id, 6, 3, 4, 100, now));
        Assert.Equal((3.0, 4.0), (await store.ListColoniesAsync(galaxy.Id, [6])).Select(c => (c.X, c.Y)).Single());
    }

    protected static PlayerRecord NewPlayer(Guid galaxyId, Guid accountId) => new()
    {
        Id = Guid.NewGuid(),
        AccountId = accountId,
        GalaxyId = galaxyId,
        Zone = ZoneId.ForSystem(3),
        X = 1234.5,
        Y = -0.1,
        Vx = 3.25,
        Vy = -7,
        Rotation = Math.PI / 3,
        Credits = 1000,
        ShipType = "scout",
        Hull = 87.5,
        HomeSystemId = 3,
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_760_000_000_123),
        Version = 1,
        Explored = [3],
    };

    private static void AssertSamePlayer(PlayerRecord expected, PlayerRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Explored = [], Route = [], Inventory = [] }, actual with { Explored = [], Route = [], Inventory = [] });
        Assert.Equal(expected.Explored.Order(), actual.Explored);
        Assert.Equal(expected.Route, actual.Route);
        Assert.Equal(expected.Inventory.OrderBy(i => i.Item, StringComparer.Ordinal), actual.Inventory);
    }

    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
