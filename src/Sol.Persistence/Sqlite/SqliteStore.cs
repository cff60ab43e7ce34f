using System.Data.Common;
using Microsoft.Data.Sqlite;
using Sol.Core.Galaxy;
using Sol.Persistence.Model;
using Sol.Persistence.Schema;

namespace Sol.Persistence.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer), nothing to install. Writers
/// take the lock up front (<c>BEGIN IMMEDIATE</c>), so transactions never deadlock on a lock upgrade; a busy file is
/// waited on for up to 30 s. Bulk writes are prepared statements re-executed inside one transaction.
/// </summary>
public sealed class SqliteStore : SqlStore
{
    private readonly string _connectionString;
    private readonly string _path;
    private FileStream? _lock;

    private SqliteStore(string path, SqliteOpenMode mode)
        : base(SqlDialect.Sqlite)
    {
        _path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public override string Kind => "sqlite";

    public override string Description => $"sqlite:{_path}";

    /// <summary>Opens (creating the file and its folder if needed) the database at <paramref name="path"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="exclusive">Hold <c>PATH.lock</c> locked while the store is open: another exclusive open of the same
    /// file, by this process or another, is refused (a second server on one file would load the same players twice).</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    public static Task<SqliteStore> CreateAsync(string path, bool exclusive = false, CancellationToken cancellationToken = default) =>
        CreateAsync(path, exclusive, SqliteOpenMode.ReadWriteCreate, cancellationToken);

    /// <param name="mode">How SQLite opens the file (tests open it read-only, as SQLite does by itself when the file is
    /// not writable: a root process may write any file).</param>
    internal static async Task<SqliteStore> CreateAsync(string path, bool exclusive, SqliteOpenMode mode, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"cannot create the folder for the database {full}: {e.Message}", e);
        }
        var store = new SqliteStore(full, mode);
        try
        {
            if (exclusive)
            {
                store._lock = Lock(full);
            }
            await using var connection = await store.OpenAsync(cancellationToken).ConfigureAwait(false);
            // SQLite opens a file it may not write read-only, without a word, and every write then fails: a server would
            // start, then refuse every login (helper-71).
            if (SQLitePCL.raw.sqlite3_db_readonly(((SqliteConnection)connection).Handle, "main") == 1)
            {
                throw new StoreUnavailableException($"the database {full} is read-only: it must be writable (its folder too, for its journal)");
            }
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = WAL";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SqliteException or StoreUnavailableException)
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw e as StoreUnavailableException ?? new StoreUnavailableException($"cannot open the database {full}: {e.Message}", e);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return store;
    }

    /// <summary>Takes <c>PATH.lock</c> (an exclusive <c>flock</c>, which the kernel drops when the process ends, however it
    /// ends), or says who may hold it.</summary>
    /// <remarks>The runtime takes the <c>flock</c> for <see cref="FileShare.None"/>; it skips it where the file system has
    /// none, or with <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> set, and then nothing is refused.</remarks>
    private static FileStream Lock(string full)
    {
        var path = full + ".lock";
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException e) when (e.HResult == WouldBlock)
        {
            throw new StoreUnavailableException($"the database {full} is in use by another process ({path} is locked: a running server, or atom replacing a galaxy): stop it first, or use another --db", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only file system, a lock file another user made: not a lock held by anyone.
            throw new StoreUnavailableException($"cannot open the lock file {path}: {e.Message}", e);
        }
    }

    /// <summary>The <c>errno</c> a taken <c>flock</c> fails with (the runtime's IOException.HResult there):
    /// EWOULDBLOCK, 11 on Linux, 35 on macOS.</summary>
    private static int WouldBlock => OperatingSystem.IsMacOS() ? 35 : 11;

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file (and its WAL) open; release them so the file can be moved or deleted. Only
        // this store's pool: other stores in the process keep theirs.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        // The lock goes last: the next server may open the file once this one holds no connection to it. The file stays
        // (deleting it could let a third server lock a new file while a second holds the old one).
        Interlocked.Exchange(ref _lock, null)?.Dispose();
        return ValueTask.CompletedTask;
    }

    private protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits).
            command.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;";
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private protected override async Task<T> RunInTransactionAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = (SqliteConnection)await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var result = await work(connection, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private protected override object GuidValue(Guid value) => value.ToString("D");

    private protected override Task InsertGalaxyBodiesAsync(Guid galaxyId, GalaxyModel galaxy, IProgress<string>? progress, CancellationToken cancellationToken) =>
        RunInTransactionAsync(
            (connection, transaction, ct) =>
            {
                // Synchronous on purpose: Microsoft.Data.Sqlite's async methods run synchronously anyway, and a
                // million awaits would cost more than the inserts.
                var g = GuidValue(galaxyId);
                var c = (SqliteConnection)connection;
                var t = (SqliteTransaction)transaction;
                BulkInsert(c, t, "INSERT INTO systems (galaxy_id, id, name, x, y) VALUES ($g, $1, $2, $3, $4)", g, galaxy.Systems, 4,
                    static (p, s) => { p[0].Value = (long)s.Id; p[1].Value = s.Name; p[2].Value = s.X; p[3].Value = s.Y; }, progress, "systems", ct);
                BulkInsert(c, t, "INSERT INTO stars (galaxy_id, id, system_id, x, y, radius, mass, damage_radius) VALUES ($g, $1, $2, $3, $4, $5, $6, $7)", g, galaxy.Stars, 7,
                    static (p, s) => { p[0].Value = (long)s.Id; p[1].Value = (long)s.SystemId; p[2].Value = s.X; p[3].Value = s.Y; p[4].Value = s.Radius; p[5].Value = s.Mass; p[6].Value = s.DamageRadius; }, progress, "stars", ct);
                BulkInsert(c, t, "INSERT INTO planets (galaxy_id, id, system_id, name, radius, orbit_radius, period, phase) VALUES ($g, $1, $2, $3, $4, $5, $6, $7)", g, galaxy.Planets, 7,
                    static (p, s) => { p[0].Value = (long)s.Id; p[1].Value = (long)s.SystemId; p[2].Value = s.Name; p[3].Value = s.Radius; p[4].Value = s.OrbitRadius; p[5].Value = s.Period; p[6].Value = s.Phase; }, progress, "planets", ct);
                BulkInsert(c, t, "INSERT INTO gates (galaxy_id, id, system_id, x, y, target_system_id, partner_gate_id) VALUES ($g, $1, $2, $3, $4, $5, $6)", g, galaxy.Gates, 6,
                    static (p, s) => { p[0].Value = (long)s.Id; p[1].Value = (long)s.SystemId; p[2].Value = s.X; p[3].Value = s.Y; p[4].Value = (long)s.TargetSystemId; p[5].Value = (long)s.PartnerGateId; }, progress, "gates", ct);
                return Task.FromResult(true);
            },
            cancellationToken);

    private protected override Task UpsertPlayersAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken)
    {
        var c = (SqliteConnection)connection;
        var t = (SqliteTransaction)transaction;
        using var upsert = Prepare(c, t,
            "INSERT INTO players (id, account_id, galaxy_id, zone_kind, zone_id, x, y, vx, vy, rotation, credits, ship_type, hull, home_system_id, updated_at, version) " +
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) " +
            "ON CONFLICT (id) DO UPDATE SET zone_kind = excluded.zone_kind, zone_id = excluded.zone_id, x = excluded.x, y = excluded.y, " +
            "vx = excluded.vx, vy = excluded.vy, rotation = excluded.rotation, credits = excluded.credits, ship_type = excluded.ship_type, " +
            "hull = excluded.hull, home_system_id = excluded.home_system_id, updated_at = excluded.updated_at, version = excluded.version " +
            "WHERE players.version < excluded.version", 16);
        using var clearRoute = Prepare(c, t, "DELETE FROM player_route WHERE player_id = $1", 1);
        using var clearInventory = Prepare(c, t, "DELETE FROM player_inventory WHERE player_id = $1", 1);
        using var explore = Prepare(c, t, "INSERT INTO player_explored (player_id, system_id, explored_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3);
        using var route = Prepare(c, t, "INSERT INTO player_route (player_id, position, system_id) VALUES ($1, $2, $3)", 3);
        using var stock = Prepare(c, t, "INSERT INTO player_inventory (player_id, item, quantity) VALUES ($1, $2, $3)", 3);
        foreach (var player in players)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = GuidValue(player.Id);
            var p = upsert.Parameters;
            p[0].Value = id;
            p[1].Value = GuidValue(player.AccountId);
            p[2].Value = GuidValue(player.GalaxyId);
            p[3].Value = (long)player.Zone.Kind;
            p[4].Value = (long)player.Zone.Id;
            p[5].Value = player.X;
            p[6].Value = player.Y;
            p[7].Value = player.Vx;
            p[8].Value = player.Vy;
            p[9].Value = player.Rotation;
            p[10].Value = player.Credits;
            p[11].Value = player.ShipType;
            p[12].Value = player.Hull;
            p[13].Value = (long)player.HomeSystemId;
            p[14].Value = player.UpdatedAt.ToUnixTimeMilliseconds();
            p[15].Value = player.Version;
            // The row is ours only if the upsert wrote it (inserted, or updated over a lower version): a snapshot that is
            // not newer (older, or the same version again) leaves the children alone too.
            if (upsert.ExecuteNonQuery() == 0)
            {
                continue;
            }
            var at = player.UpdatedAt.ToUnixTimeMilliseconds();
            foreach (var system in player.Explored)
            {
                Run(explore, id, (long)system, at);
            }
            Run(clearRoute, id);
            for (var i = 0; i < player.Route.Count; i++)
            {
                Run(route, id, (long)i, (long)player.Route[i]);
            }
            Run(clearInventory, id);
            foreach (var item in player.Inventory)
            {
                if (item.Quantity > 0)
                {
                    Run(stock, id, item.Item, item.Quantity);
                }
            }
        }
        return Task.CompletedTask;
    }

    private static void BulkInsert<T>(
        SqliteConnection connection, SqliteTransaction transaction, string sql, object galaxyId, T[] rows, int columns,
        Action<SqliteParameterCollection, T> bind, IProgress<string>? progress, string what, CancellationToken cancellationToken)
    {
        using var command = Prepare(connection, transaction, sql, columns);
        var g = command.Parameters.AddWithValue("$g", galaxyId);
        for (var i = 0; i < rows.Length; i++)
        {
            bind(command.Parameters, rows[i]);
            command.ExecuteNonQuery();
            if ((i + 1) % 50_000 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report($"{what}: {i + 1:N0} / {rows.Length:N0}");
            }
        }
        GC.KeepAlive(g);
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // SQL text is always a constant of this assembly; values go through parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        for (var i = 1; i <= parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter("$" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), null));
        }
        command.Prepare();
        return command;
    }

    private static void Run(SqliteCommand command, params ReadOnlySpan<object> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
        command.ExecuteNonQuery();
    }
}
