using System.Data.Common;
using Sol.Core.Galaxy;
using Sol.Persistence.Model;

namespace Sol.Persistence;

/// <summary>Accounts, device logins, players and colonies.</summary>
public abstract partial class SqlStore
{
    private const string PlayerColumns =
        "id, account_id, galaxy_id, zone_kind, zone_id, x, y, vx, vy, rotation, credits, ship_type, hull, home_system_id, updated_at, version";

    public async Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var inserted = await RunInTransactionAsync(
            (connection, transaction, ct) => ExecuteAsync(
                connection, transaction,
                "INSERT INTO accounts (id, username, username_key, password_hash, created_at) VALUES (@id, @u, @k, @h, @t) ON CONFLICT (username_key) DO NOTHING",
                ct,
                ("id", account.Id), ("u", account.Username), ("k", UsernameKey(account.Username)), ("h", account.PasswordHash),
                ("t", account.CreatedAt.ToUnixTimeMilliseconds())),
            cancellationToken).ConfigureAwait(false);
        return inserted == 1;
    }

    public async Task<Account?> FindAccountByUsernameAsync(string username, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(username);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAccountAsync(connection, null, "username_key = @k", ("k", UsernameKey(username)), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Account?> GetAccountAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAccountAsync(connection, null, "id = @k", ("k", id), cancellationToken).ConfigureAwait(false);
    }

    public Task<Account> FindOrCreateDeviceAccountAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        return RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                var existing = await ScalarGuidAsync(connection, transaction, "SELECT account_id FROM device_logins WHERE device_id = @d", ct, ("d", deviceId)).ConfigureAwait(false);
                if (existing is { } accountId)
                {
                    return (await ReadAccountAsync(connection, transaction, "id = @k", ("k", accountId), ct).ConfigureAwait(false))!;
                }
                var now = DateTimeOffset.FromUnixTimeMilliseconds(Now());
                var account = new Account(Guid.NewGuid(), "", null, now);
                account = account with { Username = $"guest-{account.Id:N}"[..18] };
                await ExecuteAsync(
                    connection, transaction,
                    "INSERT INTO accounts (id, username, username_key, password_hash, created_at) VALUES (@id, @u, @k, NULL, @t)", ct,
                    ("id", account.Id), ("u", account.Username), ("k", UsernameKey(account.Username)), ("t", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
                // Two first logins of one device at once: SQLite serialises writers (BEGIN IMMEDIATE), so the second sees
                // the first's row; PostgreSQL and CockroachDB, at SERIALIZABLE, fail the loser's conflicting insert with
                // 40001 and the retry finds the row.
                var bound = await ExecuteAsync(
                    connection, transaction,
                    "INSERT INTO device_logins (device_id, account_id, created_at) VALUES (@d, @a, @t) ON CONFLICT (device_id) DO NOTHING", ct,
                    ("d", deviceId), ("a", account.Id), ("t", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
                return bound == 1 ? account : throw new InvalidOperationException($"device '{deviceId}' was bound to another account concurrently");
            },
            cancellationToken);
    }

    public async Task<PlayerRecord?> LoadPlayerAsync(Guid accountId, Guid galaxyId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        PlayerRecord player;
        await using (var command = Command(connection, null, $"SELECT {PlayerColumns} FROM players WHERE account_id = @a AND galaxy_id = @g", ("a", accountId), ("g", galaxyId)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            player = ReadPlayer(reader);
        }
        var explored = await ReadIntsAsync(connection, "SELECT system_id FROM player_explored WHERE player_id = @p ORDER BY system_id", player.Id, cancellationToken).ConfigureAwait(false);
        var route = await ReadIntsAsync(connection, "SELECT system_id FROM player_route WHERE player_id = @p ORDER BY position", player.Id, cancellationToken).ConfigureAwait(false);
        var inventory = new List<InventoryItem>();
        await using (var command = Command(connection, null, "SELECT item, quantity FROM player_inventory WHERE player_id = @p ORDER BY item", ("p", player.Id)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                inventory.Add(new InventoryItem(reader.GetString(0), reader.GetInt64(1)));
            }
        }
        return player with { Explored = explored, Route = route, Inventory = inventory };
    }

    public Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(players);
        if (players.Count == 0)
        {
            return Task.CompletedTask;
        }
        // One row per player in a batch (a multi-row upsert may not touch a row twice): the highest version wins.
        var latest = new Dictionary<Guid, PlayerRecord>(players.Count);
        foreach (var player in players)
        {
            if (!latest.TryGetValue(player.Id, out var seen) || seen.Version < player.Version)
            {
                latest[player.Id] = player;
            }
        }
        IReadOnlyList<PlayerRecord> batch = latest.Count == players.Count ? players : [.. latest.Values];
        return RunInTransactionAsync(async (c, t, ct) => { await UpsertPlayersAsync(c, t, batch, ct).ConfigureAwait(false); return true; }, cancellationToken);
    }

    public async Task ProbePlayerWriteAsync(PlayerRecord player, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(player);
        // The highest version there is: the row and its children are written whatever is stored, with at least one row
        // in each child table (a state with no route or hold would not touch those tables, nor meet their constraints);
        // then the work throws, so the transaction is rolled back (each store disposes it without committing).
        var newest = player with
        {
            Version = long.MaxValue,
            Explored = player.Explored.Count > 0 ? player.Explored : [player.HomeSystemId],
            Route = player.Route.Count > 0 ? player.Route : [player.HomeSystemId],
            Inventory = player.Inventory.Any(static i => i.Quantity > 0) ? player.Inventory : [new InventoryItem("probe", 1)],
        };
        try
        {
            await RunInTransactionAsync<bool>(
                async (c, t, ct) =>
                {
                    await UpsertPlayersAsync(c, t, [newest], ct).ConfigureAwait(false);
                    throw new ProbeDone();
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ProbeDone)
        {
        }
    }

    /// <summary>Thrown by a probe's work once it is written: the transaction is rolled back and the probe succeeded.</summary>
    private sealed class ProbeDone : Exception
    {
        public ProbeDone()
            : base("probe written; rolled back")
        {
        }
    }

    public Task<ColonizeOutcome> ColonizeAsync(Guid playerId, int planetId, double x, double y, long cost, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cost);
        if (!double.IsFinite(x) || !double.IsFinite(y))
        {
            throw new ArgumentException($"a colony's position must be finite (got {x}, {y})");
        }
        return RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                var at = now.ToUnixTimeMilliseconds();
                if (await ScalarAsync(connection, transaction, "SELECT COUNT(*) FROM players WHERE id = @p", ct, ("p", playerId)).ConfigureAwait(false) == 0)
                {
                    return ColonizeOutcome.UnknownPlayer;
                }
                var existing = await ScalarAsync(
                    connection, transaction,
                    "SELECT COUNT(*) FROM colonies c JOIN players p ON p.galaxy_id = c.galaxy_id WHERE p.id = @p AND c.planet_id = @planet AND c.player_id = @p", ct,
                    ("p", playerId), ("planet", (long)planetId)).ConfigureAwait(false);
                if (existing > 0)
                {
                    return ColonizeOutcome.AlreadyColonized;
                }
                var paid = await ExecuteAsync(
                    connection, transaction,
                    "UPDATE players SET credits = credits - @cost, version = version + 1, updated_at = @t WHERE id = @p AND credits >= @cost", ct,
                    ("cost", cost), ("t", at), ("p", playerId)).ConfigureAwait(false);
                if (paid == 0)
                {
                    return ColonizeOutcome.NotEnoughCredits;
                }
                await ExecuteAsync(
                    connection, transaction,
                    "INSERT INTO colonies (galaxy_id, planet_id, player_id, founded_at, x, y) SELECT galaxy_id, @planet, id, @t, @x, @y FROM players WHERE id = @p", ct,
                    ("planet", (long)planetId), ("t", at), ("x", x), ("y", y), ("p", playerId)).ConfigureAwait(false);
                return ColonizeOutcome.Founded;
            },
            cancellationToken);
    }

    public Task SaveLogoutAsync(Guid sessionId, DateTimeOffset until, CancellationToken cancellationToken = default) =>
        RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                // The ones past their time go meanwhile (the table holds about an hour of logouts).
                await ExecuteAsync(connection, transaction, "DELETE FROM session_logouts WHERE until_ms <= @t", ct, ("t", Now())).ConfigureAwait(false);
                return await ExecuteAsync(
                    connection, transaction,
                    "INSERT INTO session_logouts (session_id, until_ms) VALUES (@s, @u) ON CONFLICT (session_id) DO UPDATE SET until_ms = excluded.until_ms", ct,
                    ("s", sessionId), ("u", until.ToUnixTimeMilliseconds())).ConfigureAwait(false);
            },
            cancellationToken);

    public async Task<IReadOnlyList<SessionLogout>> ListLogoutsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var at = now.ToUnixTimeMilliseconds();
        await RunInTransactionAsync(
            async (connection, transaction, ct) => await ExecuteAsync(connection, transaction, "DELETE FROM session_logouts WHERE until_ms <= @t", ct, ("t", at)).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT session_id, until_ms FROM session_logouts WHERE until_ms > @t", ("t", at));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<SessionLogout>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new SessionLogout(reader.GetGuid(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
        }
        return result;
    }

    public Task SaveAccountAddressAsync(Guid accountId, string address, DateTimeOffset at, int keep, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keep);
        return RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                await ExecuteAsync(
                    connection, transaction,
                    "INSERT INTO account_addresses (account_id, address, seen_ms) VALUES (@a, @d, @t) " +
                    "ON CONFLICT (account_id, address) DO UPDATE SET seen_ms = excluded.seen_ms WHERE excluded.seen_ms > account_addresses.seen_ms", ct,
                    ("a", accountId), ("d", address), ("t", at.ToUnixTimeMilliseconds())).ConfigureAwait(false);
                return await ExecuteAsync(
                    connection, transaction,
                    "DELETE FROM account_addresses WHERE account_id = @a AND (seen_ms < @f OR address NOT IN " +
                    "(SELECT address FROM account_addresses WHERE account_id = @a ORDER BY seen_ms DESC, address LIMIT @k))", ct,
                    ("a", accountId), ("f", forgetBefore.ToUnixTimeMilliseconds()), ("k", (long)keep)).ConfigureAwait(false);
            },
            cancellationToken);
    }

    public async Task<long> ForgetAccountAddressesAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        long total = 0;
        while (true)
        {
            // Batches keep each transaction short (CockroachDB); a row value IN works on all three databases.
            var deleted = await RunInTransactionAsync(
                async (connection, transaction, ct) => await ExecuteAsync(
                    connection, transaction,
                    "DELETE FROM account_addresses WHERE (account_id, address) IN " +
                    "(SELECT account_id, address FROM account_addresses WHERE seen_ms < @t ORDER BY seen_ms LIMIT 10000)", ct,
                    ("t", before.ToUnixTimeMilliseconds())).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            total += deleted;
            if (deleted < 10_000)
            {
                return total;
            }
        }
    }

    public async Task<IReadOnlyList<AccountAddress>> ListAccountAddressesAsync(Guid accountId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(
            connection, null, "SELECT address, seen_ms FROM account_addresses WHERE account_id = @a AND seen_ms >= @s ORDER BY seen_ms DESC, address",
            ("a", accountId), ("s", since.ToUnixTimeMilliseconds()));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<AccountAddress>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new AccountAddress(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
        }
        return result;
    }

    public async Task<IReadOnlyList<Colony>> ListColoniesAsync(Guid galaxyId, IReadOnlyCollection<int>? planetIds = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT planet_id, player_id, founded_at, x, y FROM colonies WHERE galaxy_id = @g ORDER BY planet_id, founded_at, player_id", ("g", galaxyId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var wanted = planetIds is null ? null : new HashSet<int>(planetIds);
        var result = new List<Colony>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var planet = (int)reader.GetInt64(0);
            if (wanted is null || wanted.Contains(planet))
            {
                result.Add(new Colony(galaxyId, planet, reader.GetGuid(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetDouble(3), reader.GetDouble(4)));
            }
        }
        return result;
    }

    /// <summary>
    /// Writes a batch of players (rows, explored systems, routes, inventories) in the caller's transaction with a few
    /// batched statements; rows whose stored version is not lower are left alone.
    /// </summary>
    private protected abstract Task UpsertPlayersAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken);

    private protected static string UsernameKey(string username) => username.Trim().ToLowerInvariant();

    private protected static PlayerRecord ReadPlayer(DbDataReader r) => new()
    {
        Id = r.GetGuid(0),
        AccountId = r.GetGuid(1),
        GalaxyId = r.GetGuid(2),
        Zone = new ZoneId((ZoneKind)r.GetInt64(3), (int)r.GetInt64(4)),
        X = r.GetDouble(5),
        Y = r.GetDouble(6),
        Vx = r.GetDouble(7),
        Vy = r.GetDouble(8),
        Rotation = r.GetDouble(9),
        Credits = r.GetInt64(10),
        ShipType = r.GetString(11),
        Hull = r.GetDouble(12),
        HomeSystemId = (int)r.GetInt64(13),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(14)),
        Version = r.GetInt64(15),
    };

    private async Task<Account?> ReadAccountAsync(DbConnection connection, DbTransaction? transaction, string where, (string, object?) key, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT id, username, password_hash, created_at FROM accounts WHERE {where}", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return new Account(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
    }

    private async Task<Guid?> ScalarGuidAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetGuid(0) : null;
    }

    private async Task<int[]> ReadIntsAsync(DbConnection connection, string sql, Guid playerId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null, sql, ("p", playerId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<int>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add((int)reader.GetInt64(0));
        }
        return [.. result];
    }
}
