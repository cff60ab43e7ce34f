using System.Data;
using System.Data.Common;
using System.Net.Sockets;
using Npgsql;
using Sol.Core.Galaxy;
using Sol.Persistence.Model;
using Sol.Persistence.Schema;

namespace Sol.Persistence.Cockroach;

/// <summary>
/// The CockroachDB store, through Npgsql; it runs unchanged on PostgreSQL (which the tests use). Every transaction is
/// SERIALIZABLE and retried on SQLSTATE 40001 (<see cref="TransactionRetry"/>); bulk writes are multi-row
/// <c>INSERT ... SELECT * FROM UNNEST(array parameters)</c> in batches, never a round trip per row.
/// </summary>
public sealed class CockroachStore : SqlStore
{
    /// <summary>Rows per UNNEST statement: big enough to amortise the round trip, small enough to keep each
    /// CockroachDB transaction far below its size limits.</summary>
    internal const int BulkBatch = 10_000;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _endpoint;

    private CockroachStore(NpgsqlDataSource dataSource, string endpoint)
        : base(SqlDialect.Cockroach)
    {
        _dataSource = dataSource;
        _endpoint = endpoint;
    }

    public override string Kind => "cockroach";

    /// <summary>"cockroach:HOST:PORT/DB", or "postgresql:..." when the server that answered the first connection is
    /// PostgreSQL (CockroachDB sends a <c>crdb_version</c> parameter at start-up; PostgreSQL does not).</summary>
    public override string Description => $"{_server}:{_endpoint}";

    private string _server = "cockroach";

    internal TransactionRetry Retry { get; } = new();

    /// <summary>Connects to <paramref name="connectionString"/> (an Npgsql connection string) and checks it answers.</summary>
    public static async Task<CockroachStore> CreateAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var endpoint = $"{builder.Host}:{builder.Port}/{builder.Database}";
        var store = new CockroachStore(new NpgsqlDataSourceBuilder(builder.ConnectionString).Build(), endpoint);
        try
        {
            await using var connection = await store.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (connection is NpgsqlConnection npgsql && !npgsql.PostgresParameters.ContainsKey("crdb_version"))
            {
                store._server = "postgresql";
            }
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return store;
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new StoreUnavailableException($"cannot reach the database at {_endpoint}: {Reason(e)}", e);
        }
    }

    private protected override async Task<T> RunInTransactionAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunOnceAsync(work, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (TransactionRetry.IsRetryable(e) && attempt < Retry.MaxAttempts)
            {
                Retry.CountRetry();
            }
            // After the connection went back to the pool: a backoff holds no connection.
            await Task.Delay(Retry.Backoff(attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One attempt in a fresh SERIALIZABLE transaction. A 40001 may come from a statement or from the COMMIT (where
    /// CockroachDB reports most of them, and PostgreSQL its "during commit attempt" cancellations); either way the
    /// transaction is over, and disposing it rolls back only what is still open, without throwing on a completed one.
    /// </summary>
    private async Task<T> RunOnceAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await ((NpgsqlConnection)connection).BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
        var result = await work(connection, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Runs <paramref name="work"/> under the store's transaction and retry rules (tests provoke 40001 through it).</summary>
    internal Task<T> RunAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default) =>
        RunInTransactionAsync((c, t, ct) => work((NpgsqlConnection)c, (NpgsqlTransaction)t, ct), cancellationToken);

    /// <summary>
    /// 23505 on a catalog index (PostgreSQL: two CREATE TABLE IF NOT EXISTS at once both insert the table's type), 42P07
    /// duplicate table and 42710 duplicate object: another process made the same object at the same moment.
    /// </summary>
    private protected override bool IsConcurrentSchemaChange(Exception error) =>
        IsConcurrentSchemaChange(error as PostgresException) || IsConcurrentSchemaChange(error.InnerException as PostgresException);

    private static bool IsConcurrentSchemaChange(PostgresException? error) => error switch
    {
        { SqlState: "42P07" or "42710" } => true,
        // A unique violation only on the system catalogs' own indexes (pg_type_typname_nsp_index, ...): a genuine one in
        // a migration's data still surfaces at once.
        { SqlState: "23505", ConstraintName: { } constraint } => constraint.StartsWith("pg_", StringComparison.Ordinal),
        _ => false,
    };

    private protected override object GuidValue(Guid value) => value;

    private protected override async Task InsertGalaxyBodiesAsync(Guid galaxyId, GalaxyModel galaxy, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        // The galaxy is invisible (status building) until published, so each batch may commit on its own. Positional
        // parameters: $1 is the galaxy id, $2... the column arrays.
        await InsertBatchesAsync(galaxy.Systems, "systems", "INSERT INTO systems (galaxy_id, id, name, x, y) SELECT $1, * FROM UNNEST($2, $3, $4, $5)", galaxyId, progress,
            static (rows, p) =>
            {
                p.Add(Column(rows, static s => (long)s.Id));
                p.Add(Column(rows, static s => s.Name));
                p.Add(Column(rows, static s => s.X));
                p.Add(Column(rows, static s => s.Y));
            }, cancellationToken).ConfigureAwait(false);
        await InsertBatchesAsync(galaxy.Stars, "stars", "INSERT INTO stars (galaxy_id, id, system_id, x, y, radius, mass, damage_radius) SELECT $1, * FROM UNNEST($2, $3, $4, $5, $6, $7, $8)", galaxyId, progress,
            static (rows, p) =>
            {
                p.Add(Column(rows, static s => (long)s.Id));
                p.Add(Column(rows, static s => (long)s.SystemId));
                p.Add(Column(rows, static s => s.X));
                p.Add(Column(rows, static s => s.Y));
                p.Add(Column(rows, static s => s.Radius));
                p.Add(Column(rows, static s => s.Mass));
                p.Add(Column(rows, static s => s.DamageRadius));
            }, cancellationToken).ConfigureAwait(false);
        await InsertBatchesAsync(galaxy.Planets, "planets", "INSERT INTO planets (galaxy_id, id, system_id, name, radius, orbit_radius, period, phase) SELECT $1, * FROM UNNEST($2, $3, $4, $5, $6, $7, $8)", galaxyId, progress,
            static (rows, p) =>
            {
                p.Add(Column(rows, static s => (long)s.Id));
                p.Add(Column(rows, static s => (long)s.SystemId));
                p.Add(Column(rows, static s => s.Name));
                p.Add(Column(rows, static s => s.Radius));
                p.Add(Column(rows, static s => s.OrbitRadius));
                p.Add(Column(rows, static s => s.Period));
                p.Add(Column(rows, static s => s.Phase));
            }, cancellationToken).ConfigureAwait(false);
        await InsertBatchesAsync(galaxy.Gates, "gates", "INSERT INTO gates (galaxy_id, id, system_id, x, y, target_system_id, partner_gate_id) SELECT $1, * FROM UNNEST($2, $3, $4, $5, $6, $7)", galaxyId, progress,
            static (rows, p) =>
            {
                p.Add(Column(rows, static s => (long)s.Id));
                p.Add(Column(rows, static s => (long)s.SystemId));
                p.Add(Column(rows, static s => s.X));
                p.Add(Column(rows, static s => s.Y));
                p.Add(Column(rows, static s => (long)s.TargetSystemId));
                p.Add(Column(rows, static s => (long)s.PartnerGateId));
            }, cancellationToken).ConfigureAwait(false);
    }

    private protected override async Task UpsertPlayersAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken)
    {
        var npgsql = (NpgsqlConnection)connection;
        var tx = (NpgsqlTransaction)transaction;
        var written = new HashSet<Guid>();
        await using (var upsert = new NpgsqlCommand(
            "INSERT INTO players (id, account_id, galaxy_id, zone_kind, zone_id, x, y, vx, vy, rotation, credits, ship_type, hull, home_system_id, updated_at, version) " +
            "SELECT * FROM UNNEST($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) " +
            "ON CONFLICT (id) DO UPDATE SET zone_kind = excluded.zone_kind, zone_id = excluded.zone_id, x = excluded.x, y = excluded.y, " +
            "vx = excluded.vx, vy = excluded.vy, rotation = excluded.rotation, credits = excluded.credits, ship_type = excluded.ship_type, " +
            "hull = excluded.hull, home_system_id = excluded.home_system_id, updated_at = excluded.updated_at, version = excluded.version " +
            "WHERE players.version < excluded.version RETURNING id", npgsql, tx))
        {
            var p = upsert.Parameters;
            p.Add(Column(players, static r => r.Id));
            p.Add(Column(players, static r => r.AccountId));
            p.Add(Column(players, static r => r.GalaxyId));
            p.Add(Column(players, static r => (long)r.Zone.Kind));
            p.Add(Column(players, static r => (long)r.Zone.Id));
            p.Add(Column(players, static r => r.X));
            p.Add(Column(players, static r => r.Y));
            p.Add(Column(players, static r => r.Vx));
            p.Add(Column(players, static r => r.Vy));
            p.Add(Column(players, static r => r.Rotation));
            p.Add(Column(players, static r => r.Credits));
            p.Add(Column(players, static r => r.ShipType));
            p.Add(Column(players, static r => r.Hull));
            p.Add(Column(players, static r => (long)r.HomeSystemId));
            p.Add(Column(players, static r => r.UpdatedAt.ToUnixTimeMilliseconds()));
            p.Add(Column(players, static r => r.Version));
            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                written.Add(reader.GetGuid(0));
            }
        }
        if (written.Count == 0)
        {
            return;
        }

        // Children of the rows this batch now owns: explored grows (insert-or-ignore), route and inventory are replaced.
        var owners = new List<Guid>(written.Count);
        List<Guid> explorePlayer = [], routePlayer = [], stockPlayer = [];
        List<long> exploreSystem = [], exploreAt = [], routePosition = [], routeSystem = [], stockQuantity = [];
        List<string> stockItem = [];
        foreach (var player in players)
        {
            if (!written.Contains(player.Id))
            {
                continue;
            }
            owners.Add(player.Id);
            foreach (var system in player.Explored)
            {
                explorePlayer.Add(player.Id);
                exploreSystem.Add(system);
                exploreAt.Add(player.UpdatedAt.ToUnixTimeMilliseconds());
            }
            for (var i = 0; i < player.Route.Count; i++)
            {
                routePlayer.Add(player.Id);
                routePosition.Add(i);
                routeSystem.Add(player.Route[i]);
            }
            foreach (var item in player.Inventory)
            {
                if (item.Quantity > 0)
                {
                    stockPlayer.Add(player.Id);
                    stockItem.Add(item.Item);
                    stockQuantity.Add(item.Quantity);
                }
            }
        }
        // The deletes always run (an emptied route or hold is emptied in the database too); an insert with nothing to
        // insert is skipped, one round trip less each.
        if (explorePlayer.Count > 0)
        {
            await ExecuteAsync(npgsql, tx, "INSERT INTO player_explored (player_id, system_id, explored_at) SELECT * FROM UNNEST(@a, @b, @c) ON CONFLICT DO NOTHING", cancellationToken,
                ("a", explorePlayer.ToArray()), ("b", exploreSystem.ToArray()), ("c", exploreAt.ToArray())).ConfigureAwait(false);
        }
        var ownerIds = owners.ToArray();
        await ExecuteAsync(npgsql, tx, "DELETE FROM player_route WHERE player_id = ANY(@a)", cancellationToken, ("a", ownerIds)).ConfigureAwait(false);
        if (routePlayer.Count > 0)
        {
            await ExecuteAsync(npgsql, tx, "INSERT INTO player_route (player_id, position, system_id) SELECT * FROM UNNEST(@a, @b, @c)", cancellationToken,
                ("a", routePlayer.ToArray()), ("b", routePosition.ToArray()), ("c", routeSystem.ToArray())).ConfigureAwait(false);
        }
        await ExecuteAsync(npgsql, tx, "DELETE FROM player_inventory WHERE player_id = ANY(@a)", cancellationToken, ("a", ownerIds)).ConfigureAwait(false);
        if (stockPlayer.Count > 0)
        {
            await ExecuteAsync(npgsql, tx, "INSERT INTO player_inventory (player_id, item, quantity) SELECT * FROM UNNEST(@a, @b, @c)", cancellationToken,
                ("a", stockPlayer.ToArray()), ("b", stockItem.ToArray()), ("c", stockQuantity.ToArray())).ConfigureAwait(false);
        }
    }

    private async Task InsertBatchesAsync<T>(
        T[] rows, string what, string sql, Guid galaxyId, IProgress<string>? progress,
        Action<ArraySegment<T>, NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        for (var start = 0; start < rows.Length; start += BulkBatch)
        {
            var segment = new ArraySegment<T>(rows, start, Math.Min(BulkBatch, rows.Length - start));
            await RunInTransactionAsync(
                async (connection, transaction, ct) =>
                {
                    await using var command = new NpgsqlCommand(sql, (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
                    command.Parameters.Add(new NpgsqlParameter { Value = galaxyId });
                    bind(segment, command.Parameters);
                    return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            if ((start / BulkBatch) % 5 == 4)
            {
                progress?.Report($"{what}: {start + segment.Count:N0} / {rows.Length:N0}");
            }
        }
    }

    private static NpgsqlParameter Column<TRow, TValue>(IReadOnlyList<TRow> rows, Func<TRow, TValue> value)
    {
        var array = new TValue[rows.Count];
        for (var i = 0; i < array.Length; i++)
        {
            array[i] = value(rows[i]);
        }
        return new NpgsqlParameter { Value = array };
    }

    private static string Reason(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.Message;
            }
            if (inner is PostgresException pg)
            {
                return pg.MessageText;
            }
        }
        return e.Message.ReplaceLineEndings(" ");
    }
}
