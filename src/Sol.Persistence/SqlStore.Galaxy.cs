using System.Data.Common;
using Sol.Core.Galaxy;
using Sol.Persistence.Model;

namespace Sol.Persistence;

/// <summary>Galaxies. Publishing is a small protocol so that no reader ever sees half a galaxy, on either store.</summary>
/// <remarks>
/// Save: (1) a <c>galaxies</c> row in state <em>building</em> under a fresh id; (2) the bodies, in batches (the
/// subclass's bulk writer; on CockroachDB each batch is its own short transaction, so no transaction grows with the
/// galaxy); (3) one small transaction flips the old galaxy of that name (if any) to <em>retired</em> and the new one to
/// <em>ready</em>; (4) the retired galaxy's rows are deleted in batches. Readers only ever look at <em>ready</em> rows.
/// A crash before (3) leaves an invisible building galaxy, and one after it a retired one: both are swept by the next
/// save.
/// </remarks>
public abstract partial class SqlStore
{
    private const long Building = 0;
    private const long Ready = 1;
    private const long Retired = 2;

    private const string GalaxyColumns =
        "g.id, g.name, g.seed, g.zones, g.planets_min, g.planets_max, g.stars_min, g.stars_max, g.gates_min, g.gates_max, g.content_hash, g.created_at, " +
        "(SELECT COUNT(*) FROM stars s WHERE s.galaxy_id = g.id), (SELECT COUNT(*) FROM planets p WHERE p.galaxy_id = g.id), (SELECT COUNT(*) FROM gates t WHERE t.galaxy_id = g.id)";

    public async Task<IReadOnlyList<GalaxySummary>> ListGalaxiesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, $"SELECT {GalaxyColumns} FROM galaxies g WHERE g.status = 1 ORDER BY g.name");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<GalaxySummary>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(ReadSummary(reader));
        }
        return result;
    }

    public async Task<GalaxySummary?> FindGalaxyAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await FindGalaxyAsync(connection, null, name, cancellationToken).ConfigureAwait(false);
    }

    public async Task<GalaxySummary> SaveGalaxyAsync(GalaxyModel galaxy, bool replace, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(galaxy);
        await SweepAbandonedAsync(cancellationToken).ConfigureAwait(false);
        if (!replace && await FindGalaxyAsync(galaxy.Name, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new GalaxyExistsException($"a galaxy named '{galaxy.Name}' already exists (use --replace to overwrite it)");
        }

        var id = Guid.NewGuid();
        var created = Now();
        var p = galaxy.Parameters;
        await RunInTransactionAsync(
            (connection, transaction, ct) => ExecuteAsync(
                connection, transaction,
                "INSERT INTO galaxies (id, name, status, seed, zones, planets_min, planets_max, stars_min, stars_max, gates_min, gates_max, content_hash, created_at) " +
                "VALUES (@id, @name, 0, @seed, @zones, @pmin, @pmax, @smin, @smax, @gmin, @gmax, @hash, @created)",
                ct,
                ("id", id), ("name", galaxy.Name), ("seed", unchecked((long)p.Seed)), ("zones", (long)p.Zones),
                ("pmin", (long)p.Planets.Min), ("pmax", (long)p.Planets.Max), ("smin", (long)p.Stars.Min), ("smax", (long)p.Stars.Max),
                ("gmin", (long)p.Gates.Min), ("gmax", (long)p.Gates.Max), ("hash", galaxy.ContentHash), ("created", created)),
            cancellationToken).ConfigureAwait(false);

        Guid? retired;
        try
        {
            await InsertGalaxyBodiesAsync(id, galaxy, progress, cancellationToken).ConfigureAwait(false);
            progress?.Report("publishing");
            retired = await RunInTransactionAsync(
                async (connection, transaction, ct) =>
                {
                    var old = await FindGalaxyAsync(connection, transaction, galaxy.Name, ct).ConfigureAwait(false);
                    if (old is not null && !replace)
                    {
                        throw new GalaxyExistsException($"a galaxy named '{galaxy.Name}' was stored by someone else meanwhile");
                    }
                    if (old is not null)
                    {
                        await ExecuteAsync(connection, transaction, "UPDATE galaxies SET status = 2 WHERE id = @id", ct, ("id", old.Id)).ConfigureAwait(false);
                    }
                    await ExecuteAsync(connection, transaction, "UPDATE galaxies SET status = 1 WHERE id = @id", ct, ("id", id)).ConfigureAwait(false);
                    return old?.Id;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DeleteGalaxyRowsAsync(id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        if (retired is { } oldId)
        {
            progress?.Report("removing the replaced galaxy");
            await DeleteGalaxyRowsAsync(oldId, cancellationToken).ConfigureAwait(false);
        }
        return new GalaxySummary(id, galaxy.Name, galaxy.Parameters, galaxy.ContentHash, DateTimeOffset.FromUnixTimeMilliseconds(created), galaxy.Stars.Length, galaxy.Planets.Length, galaxy.Gates.Length);
    }

    public async Task<(GalaxySummary Summary, GalaxyModel Model)?> LoadGalaxyAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var summary = await FindGalaxyAsync(connection, null, name, cancellationToken).ConfigureAwait(false);
        if (summary is null)
        {
            return null;
        }
        var id = summary.Id;
        var systems = await ReadAllAsync(
            connection, "SELECT id, name, x, y FROM systems WHERE galaxy_id = @g ORDER BY id", id, summary.Parameters.Zones,
            static r => new StarSystem((int)r.GetInt64(0), r.GetString(1), r.GetDouble(2), r.GetDouble(3)), cancellationToken).ConfigureAwait(false);
        var stars = await ReadAllAsync(
            connection, "SELECT id, system_id, x, y, radius, mass, damage_radius FROM stars WHERE galaxy_id = @g ORDER BY id", id, summary.Stars,
            static r => new Star((int)r.GetInt64(0), (int)r.GetInt64(1), r.GetDouble(2), r.GetDouble(3), r.GetDouble(4), r.GetDouble(5), r.GetDouble(6)), cancellationToken).ConfigureAwait(false);
        var planets = await ReadAllAsync(
            connection, "SELECT id, system_id, name, radius, orbit_radius, period, phase FROM planets WHERE galaxy_id = @g ORDER BY id", id, summary.Planets,
            static r => new Planet((int)r.GetInt64(0), (int)r.GetInt64(1), r.GetString(2), r.GetDouble(3), r.GetDouble(4), r.GetDouble(5), r.GetDouble(6)), cancellationToken).ConfigureAwait(false);
        var gates = await ReadAllAsync(
            connection, "SELECT id, system_id, x, y, target_system_id, partner_gate_id FROM gates WHERE galaxy_id = @g ORDER BY id", id, summary.Gates,
            static r => new Gate((int)r.GetInt64(0), (int)r.GetInt64(1), r.GetDouble(2), r.GetDouble(3), (int)r.GetInt64(4), (int)r.GetInt64(5)), cancellationToken).ConfigureAwait(false);
        var model = new GalaxyModel(summary.Name, summary.Parameters, systems, stars, planets, gates);
        if (model.ContentHash != summary.ContentHash)
        {
            throw new InvalidDataException($"galaxy '{name}' is corrupt: its content hashes to {model.ContentHash}, not the stored {summary.ContentHash}");
        }
        return (summary, model);
    }

    public async Task<bool> DeleteGalaxyAsync(string name, CancellationToken cancellationToken = default)
    {
        var retired = await RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                var found = await FindGalaxyAsync(connection, transaction, name, ct).ConfigureAwait(false);
                if (found is not null)
                {
                    await ExecuteAsync(connection, transaction, "UPDATE galaxies SET status = 2 WHERE id = @id", ct, ("id", found.Id)).ConfigureAwait(false);
                }
                return found?.Id;
            },
            cancellationToken).ConfigureAwait(false);
        if (retired is { } id)
        {
            await DeleteGalaxyRowsAsync(id, cancellationToken).ConfigureAwait(false);
            return true;
        }
        return false;
    }

    /// <summary>Writes every system, star, planet and gate of <paramref name="galaxy"/> under <paramref name="galaxyId"/>, in batches.</summary>
    private protected abstract Task InsertGalaxyBodiesAsync(Guid galaxyId, GalaxyModel galaxy, IProgress<string>? progress, CancellationToken cancellationToken);

    private async Task SweepAbandonedAsync(CancellationToken cancellationToken)
    {
        // Retired galaxies, and building ones older than an hour (a crashed atom; a live one finishes well within that).
        List<Guid> abandoned = [];
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var command = Command(
                connection, null, "SELECT id FROM galaxies WHERE status = 2 OR (status = 0 AND created_at < @cutoff)",
                ("cutoff", Now() - (long)TimeSpan.FromHours(1).TotalMilliseconds));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                abandoned.Add(reader.GetGuid(0));
            }
        }
        foreach (var id in abandoned)
        {
            await DeleteGalaxyRowsAsync(id, cancellationToken).ConfigureAwait(false);
        }
        // Players of a galaxy that is gone: a server still running on a galaxy that was replaced under it writes its
        // players on (docs/schema.md says to stop it first); nothing else would ever remove them.
        await DeletePlayersAsync(s_deleteOrphans, [], cancellationToken).ConfigureAwait(false);
        // Their colonies too (founded by such a server after its galaxy's rows were deleted).
        List<Guid> orphaned = [];
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var command = Command(
                connection, null, "SELECT DISTINCT c.galaxy_id FROM colonies c WHERE NOT EXISTS (SELECT 1 FROM galaxies g WHERE g.id = c.galaxy_id)");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                orphaned.Add(reader.GetGuid(0));
            }
        }
        foreach (var id in orphaned)
        {
            await DeleteByKeyRangesAsync("colonies", "planet_id", 1_000, id, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeleteGalaxyRowsAsync(Guid id, CancellationToken cancellationToken)
    {
        // In batches, each its own short transaction (CockroachDB keeps transactions small that way); child rows first
        // and the galaxies row last, so an interrupted delete is found and finished by the next sweep. A batch is a
        // range of the primary key (galaxy, id): the ids of a galaxy's bodies are dense from 1, so each range holds at
        // most a batch of rows and is found by the key alone. (The "id IN (SELECT ... LIMIT n)" form it replaces was
        // quadratic on PostgreSQL when the galaxy was missing from the table's statistics: a nested-loop semi join,
        // 47 s for 10,000 rows.)
        foreach (var (table, key, batch) in s_bodyTables)
        {
            await DeleteByKeyRangesAsync(table, key, batch, id, cancellationToken).ConfigureAwait(false);
        }
        await DeletePlayersAsync(s_deleteGalaxyPlayers, [("g", id)], cancellationToken).ConfigureAwait(false);
        await RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                await ExecuteAsync(connection, transaction, "DELETE FROM galaxy_leases WHERE galaxy_id = @id", ct, ("id", id)).ConfigureAwait(false);
                return await ExecuteAsync(connection, transaction, "DELETE FROM galaxies WHERE id = @id", ct, ("id", id)).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    public Task<GalaxyLease> TakeGalaxyLeaseAsync(Guid galaxyId, string holder, DateTimeOffset now, TimeSpan term, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(term, TimeSpan.Zero);
        var at = now.ToUnixTimeMilliseconds();
        var until = (now + term).ToUnixTimeMilliseconds();
        // One transaction: of two servers taking a free lease at once, one commits and the other (CockroachDB: retried
        // on 40001; SQLite: one writer at a time) then reads the first's row and does not overwrite it.
        return RunInTransactionAsync(
            async (connection, transaction, ct) =>
            {
                await ExecuteAsync(
                    connection, transaction,
                    "INSERT INTO galaxy_leases (galaxy_id, holder, until_ms) VALUES (@g, @h, @u) " +
                    "ON CONFLICT (galaxy_id) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms " +
                    "WHERE galaxy_leases.holder = excluded.holder OR galaxy_leases.until_ms <= @now", ct,
                    ("g", galaxyId), ("h", holder), ("u", until), ("now", at)).ConfigureAwait(false);
                await using var command = Command(connection, transaction, "SELECT holder, until_ms FROM galaxy_leases WHERE galaxy_id = @g", ("g", galaxyId));
                await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (!await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    throw new InvalidOperationException("the lease row written in this transaction is not there");
                }
                return new GalaxyLease(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
            },
            cancellationToken);
    }

    public Task ReleaseGalaxyLeaseAsync(Guid galaxyId, string holder, CancellationToken cancellationToken = default) =>
        RunInTransactionAsync(
            (connection, transaction, ct) => ExecuteAsync(connection, transaction, "DELETE FROM galaxy_leases WHERE galaxy_id = @g AND holder = @h", ct, ("g", galaxyId), ("h", holder)),
            cancellationToken);

    /// <summary>
    /// Deletes <paramref name="table"/>'s rows of galaxy <paramref name="id"/> by ranges of <paramref name="key"/>,
    /// <paramref name="batch"/> key values a transaction, until none is left (a row written meanwhile, by a server still
    /// running on the galaxy, is found by the next pass; at most 8 passes).
    /// </summary>
    private async Task DeleteByKeyRangesAsync(string table, string key, long batch, Guid id, CancellationToken cancellationToken)
    {
        var sql = $"DELETE FROM {table} WHERE galaxy_id = @g AND {key} >= @lo AND {key} < @hi";
        for (var pass = 0; pass < 8; pass++)
        {
            var (first, last) = await RunInTransactionAsync(
                async (c, t, ct) => (
                    await ScalarAsync(c, t, $"SELECT COALESCE(MIN({key}), 0) FROM {table} WHERE galaxy_id = @g", ct, ("g", id)).ConfigureAwait(false),
                    await ScalarAsync(c, t, $"SELECT COALESCE(MAX({key}), -1) FROM {table} WHERE galaxy_id = @g", ct, ("g", id)).ConfigureAwait(false)),
                cancellationToken).ConfigureAwait(false);
            if (last < first)
            {
                return;
            }
            for (var lo = first; lo <= last; lo += batch)
            {
                var from = lo;
                await RunInTransactionAsync((c, t, ct) => ExecuteAsync(c, t, sql, ct, ("g", id), ("lo", from), ("hi", from + batch)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Deletes the players a batch query picks (and their explored systems, route and inventory, in the same
    /// transaction), a batch at a time, until it picks none.</summary>
    private async Task DeletePlayersAsync(string[] statements, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        (string Name, object? Value)[] all = [.. parameters, ("n", 10_000L)];
        while (await RunInTransactionAsync(
            async (c, t, ct) =>
            {
                for (var i = 0; i < statements.Length - 1; i++)
                {
                    await ExecuteAsync(c, t, statements[i], ct, all).ConfigureAwait(false);
                }
                return await ExecuteAsync(c, t, statements[^1], ct, all).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <summary>The child rows' deletes, then the players' own, for the players <paramref name="batch"/> selects.</summary>
    private static string[] PlayerDeletes(string batch) =>
    [
        $"DELETE FROM player_explored WHERE player_id IN ({batch})",
        $"DELETE FROM player_route WHERE player_id IN ({batch})",
        $"DELETE FROM player_inventory WHERE player_id IN ({batch})",
        $"DELETE FROM players WHERE id IN ({batch})",
    ];

    private static readonly string[] s_deleteGalaxyPlayers = PlayerDeletes("SELECT id FROM players WHERE galaxy_id = @g ORDER BY id LIMIT @n");

    private static readonly string[] s_deleteOrphans = PlayerDeletes(
        "SELECT p.id FROM players p WHERE NOT EXISTS (SELECT 1 FROM galaxies g WHERE g.id = p.galaxy_id) ORDER BY p.id LIMIT @n");

    /// <summary>
    /// A galaxy's tables keyed by (galaxy, a number), deleted by ranges of that number: 10,000 bodies a transaction
    /// (their ids are dense from 1), and the colonies of 1,000 planets (a planet can have a colony of every player).
    /// </summary>
    private static readonly (string Table, string Key, long Batch)[] s_bodyTables =
    [
        ("systems", "id", 10_000), ("stars", "id", 10_000), ("planets", "id", 10_000), ("gates", "id", 10_000), ("colonies", "planet_id", 1_000),
    ];

    private async Task<GalaxySummary?> FindGalaxyAsync(DbConnection connection, DbTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, $"SELECT {GalaxyColumns} FROM galaxies g WHERE g.status = 1 AND g.name = @name", ("name", name));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadSummary(reader) : null;
    }

    private async Task<T[]> ReadAllAsync<T>(DbConnection connection, string sql, Guid galaxyId, int expected, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var result = new T[expected];
        var count = 0;
        await using var command = Command(connection, null, sql, ("g", galaxyId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (count == result.Length)
            {
                Array.Resize(ref result, Math.Max(4, result.Length * 2));
            }
            result[count++] = read(reader);
        }
        return count == result.Length ? result : result[..count];
    }

    private static GalaxySummary ReadSummary(DbDataReader r)
    {
        var parameters = new GalaxyParameters(
            (int)r.GetInt64(3),
            new IntRange((int)r.GetInt64(4), (int)r.GetInt64(5)),
            new IntRange((int)r.GetInt64(6), (int)r.GetInt64(7)),
            new IntRange((int)r.GetInt64(8), (int)r.GetInt64(9)),
            unchecked((ulong)r.GetInt64(2)));
        return new GalaxySummary(
            r.GetGuid(0), r.GetString(1), parameters, r.GetString(10), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
            (int)r.GetInt64(12), (int)r.GetInt64(13), (int)r.GetInt64(14));
    }
}
