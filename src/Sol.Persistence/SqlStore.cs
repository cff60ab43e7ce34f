using System.Data.Common;
using Sol.Persistence.Schema;

namespace Sol.Persistence;

/// <summary>
/// What both stores share: the schema and migrations, and every statement whose SQL is the same in both dialects
/// (reads, single-row writes, the galaxy publish protocol). The dialect-specific parts — opening connections,
/// transactions with their retry rules, and batched bulk writes — are the subclasses'.
/// </summary>
/// <remarks>Split by concern: <c>SqlStore.Galaxy.cs</c>, <c>SqlStore.Players.cs</c>.</remarks>
public abstract partial class SqlStore : ISolStore
{
    private protected SqlStore(SqlDialect dialect)
    {
        Dialect = dialect;
    }

    public abstract string Kind { get; }

    public abstract string Description { get; }

    private protected SqlDialect Dialect { get; }

    public async Task MigrateAsync(CancellationToken cancellationToken = default)
    {
        var migrations = MigrationSource.Load(Dialect);
        if (await AppliedVersionsAsync(cancellationToken).ConfigureAwait(false) is { } applied && migrations.All(m => applied.Contains(m.Version)))
        {
            // Up to date: no DDL at all, so a role with only data rights (SELECT, INSERT, UPDATE, DELETE) can serve an
            // existing database (before: CREATE TABLE IF NOT EXISTS ran first, and needed CREATE on the schema).
            return;
        }
        await MigrationStepAsync(
            async (connection, transaction, ct) =>
            {
                await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)", ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);

        foreach (var migration in migrations)
        {
            // Every statement in a migration is idempotent (IF NOT EXISTS), so a migration that another process is
            // applying at the same moment, or that a crash interrupted, is simply applied again.
            await MigrationStepAsync(
                async (connection, transaction, ct) =>
                {
                    var applied = await ScalarAsync(connection, transaction, "SELECT COUNT(*) FROM schema_migrations WHERE version = @v", ct, ("v", (long)migration.Version)).ConfigureAwait(false);
                    if (applied > 0)
                    {
                        return false;
                    }
                    await ExecuteAsync(connection, transaction, migration.Sql, ct).ConfigureAwait(false);
                    await ExecuteAsync(
                        connection, transaction,
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t) ON CONFLICT (version) DO NOTHING", ct,
                        ("v", (long)migration.Version), ("n", migration.Name), ("t", Now())).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The versions in schema_migrations, or null when it cannot be read (no such table yet).</summary>
    private async Task<HashSet<long>?> AppliedVersionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = Command(connection, null, "SELECT version FROM schema_migrations");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var versions = new HashSet<long>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                versions.Add(reader.GetInt64(0));
            }
            return versions;
        }
        catch (DbException)
        {
            return null; // the migrations below create it, or say what is wrong
        }
    }

    /// <summary>
    /// One migration step in its own transaction, tried again when another process created the same object at the same
    /// moment (<see cref="IsConcurrentSchemaChange"/>): that one has committed by then, and the step's IF NOT EXISTS sees
    /// it the next time.
    /// </summary>
    private async Task MigrationStepAsync(Func<DbConnection, DbTransaction, CancellationToken, Task<bool>> step, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RunInTransactionAsync(step, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < 8 && IsConcurrentSchemaChange(e))
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether <paramref name="error"/> is a schema change racing another process's identical one (PostgreSQL's CREATE
    /// ... IF NOT EXISTS is not safe against a concurrent one); none by default.
    /// </summary>
    private protected virtual bool IsConcurrentSchemaChange(Exception error) => false;

    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (int)await ScalarAsync(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", cancellationToken).ConfigureAwait(false);
    }

    public abstract ValueTask DisposeAsync();

    /// <summary>Runs <paramref name="sql"/> in a transaction of its own (tests: a database as an older version left it).</summary>
    internal Task ExecuteForTestsAsync(string sql) =>
        RunInTransactionAsync(async (connection, transaction, ct) => await ExecuteAsync(connection, transaction, sql, ct).ConfigureAwait(false), CancellationToken.None);

    /// <summary>Rows in one of the schema's tables (for tests and <c>atom inspect</c>).</summary>
    internal async Task<long> CountRowsAsync(string table)
    {
        if (!s_tables.Contains(table))
        {
            throw new ArgumentException($"unknown table '{table}'", nameof(table));
        }
        await using var connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
        return await ScalarAsync(connection, null, $"SELECT COUNT(*) FROM {table}", CancellationToken.None).ConfigureAwait(false);
    }

    private static readonly HashSet<string> s_tables =
    [
        "galaxies", "systems", "stars", "planets", "gates", "accounts", "device_logins", "players", "player_explored",
        "player_route", "player_inventory", "colonies", "schema_migrations", "session_logouts", "account_addresses", "galaxy_leases",
    ];

    /// <summary>An open connection from the pool; the caller disposes it.</summary>
    private protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction and commits. Each store applies its own isolation and retry rules
    /// (CockroachDB: SERIALIZABLE, retried on SQLSTATE 40001), so <paramref name="work"/> may run more than once and
    /// must have no effects outside the database.
    /// </summary>
    private protected abstract Task<T> RunInTransactionAsync<T>(Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>The value a <see cref="Guid"/> is bound as (SQLite keeps UUIDs as lower-case text).</summary>
    private protected abstract object GuidValue(Guid value);

    private protected static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private protected DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // SQL text is always a constant of this assembly; values go through parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value switch
            {
                null => DBNull.Value,
                Guid g => GuidValue(g),
                _ => value,
            };
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private protected async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private protected async Task<long> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null or DBNull ? 0 : Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture);
    }
}
