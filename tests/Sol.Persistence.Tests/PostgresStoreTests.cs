using Npgsql;
using Sol.Persistence.Cockroach;
using Sol.Testing;

namespace Sol.Persistence.Tests;

public sealed class PostgresStoreTests : StoreContract
{
    protected override async Task<ISolStore?> CreateStoreAsync()
    {
        var connectionString = await PostgresDatabase.CreateAsync("store");
        return connectionString is null ? null : await SolStore.OpenAsync(connectionString);
    }

    [SkippableFact]
    public async Task ARoleWithOnlyDataRightsServesAnUpToDateDatabase()
    {
        var connectionString = await PostgresDatabase.CreateAsync("dml");
        Skip.If(connectionString is null, "no PostgreSQL cluster configured");
        await (await SolStore.OpenAsync(connectionString!)).DisposeAsync(); // migrated by the owner
        var role = $"sol_dml_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(connectionString))
        {
            await admin.OpenAsync();
            await using var grant = new NpgsqlCommand(
                $"CREATE ROLE {role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO {role}; " +
                $"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}", admin);
            await grant.ExecuteNonQueryAsync();
        }

        // Before: every start ran CREATE TABLE IF NOT EXISTS schema_migrations first: 42501 permission denied.
        var asRole = new NpgsqlConnectionStringBuilder(connectionString) { Username = role }.ConnectionString;
        await using var store = await SolStore.OpenAsync(asRole);
        Assert.Equal(await ((SqlStore)store).SchemaVersionAsync(), MigrationCount());
        var galaxy = await store.SaveGalaxyAsync(Sol.Core.Galaxy.GalaxyGenerator.Generate("dml", Sol.Core.Galaxy.GalaxyParameters.Default(6, 1)), replace: false);
        Assert.Equal("dml", galaxy.Name);
    }

    /// <summary>Migration versions (one file for both dialects, or one per dialect: NNNN_name[.dialect].sql).</summary>
    private static int MigrationCount() => typeof(SqlStore).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith("Sol.Persistence.Migrations.", StringComparison.Ordinal))
        .Select(n => n["Sol.Persistence.Migrations.".Length..][..4])
        .Distinct()
        .Count();

    [SkippableFact]
    public async Task ASerializationFailureIsRetriedUntilTheTransactionCommits()
    {
        var connectionString = await PostgresDatabase.CreateAsync("retry");
        Skip.If(connectionString is null, "no PostgreSQL cluster configured");
        await using var store = (CockroachStore)await SolStore.OpenAsync(connectionString!);
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE counter (id BIGINT PRIMARY KEY, v BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0)", setup);
            await create.ExecuteNonQueryAsync();
        }

        // Attempt 1 reads v, then a rival SERIALIZABLE transaction increments and commits it, then attempt 1 writes:
        // PostgreSQL fails that write with 40001. Attempt 2 runs alone and commits. Both increments must count.
        var attempts = 0;
        await store.RunAsync(async (connection, transaction, ct) =>
        {
            attempts++;
            await using var read = new NpgsqlCommand("SELECT v FROM counter WHERE id = 1", connection, transaction);
            var v = (long)(await read.ExecuteScalarAsync(ct))!;
            if (attempts == 1)
            {
                await using var rival = new NpgsqlConnection(connectionString);
                await rival.OpenAsync(ct);
                await using var rivalTx = await rival.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
                await using var bump = new NpgsqlCommand("UPDATE counter SET v = v + 1 WHERE id = 1", rival, rivalTx);
                await bump.ExecuteNonQueryAsync(ct);
                await rivalTx.CommitAsync(ct);
            }
            await using var write = new NpgsqlCommand("UPDATE counter SET v = @v WHERE id = 1", connection, transaction);
            write.Parameters.AddWithValue("v", v + 1);
            return await write.ExecuteNonQueryAsync(ct);
        });

        Assert.Equal(2, attempts);
        Assert.Equal(1, store.Retry.Retries);
        await using var check = new NpgsqlConnection(connectionString);
        await check.OpenAsync();
        await using var final = new NpgsqlCommand("SELECT v FROM counter WHERE id = 1", check);
        Assert.Equal(2L, await final.ExecuteScalarAsync());
    }

    [SkippableFact]
    public async Task ASerializationFailureAtCommitIsRetriedToo()
    {
        var connectionString = await PostgresDatabase.CreateAsync("commitretry");
        Skip.If(connectionString is null, "no PostgreSQL cluster configured");
        await using var store = (CockroachStore)await SolStore.OpenAsync(connectionString!);
        await ExecuteAsync(connectionString!, "CREATE TABLE a (id BIGINT PRIMARY KEY); CREATE TABLE b (id BIGINT PRIMARY KEY)");

        // Write skew: attempt 1 reads a and writes b; a rival reads b, writes a and commits first. Every statement of
        // attempt 1 succeeds; PostgreSQL cancels it at COMMIT with 40001 (where CockroachDB reports most of its
        // retries). Attempt 2 runs alone and commits.
        var attempts = 0;
        var firstWorkReturned = false;
        await store.RunAsync(async (connection, transaction, ct) =>
        {
            attempts++;
            await using (var read = new NpgsqlCommand("SELECT COUNT(*) FROM a", connection, transaction))
            {
                await read.ExecuteScalarAsync(ct);
            }
            await using (var write = new NpgsqlCommand($"INSERT INTO b VALUES ({attempts})", connection, transaction))
            {
                await write.ExecuteNonQueryAsync(ct);
            }
            if (attempts == 1)
            {
                await using var rival = new NpgsqlConnection(connectionString);
                await rival.OpenAsync(ct);
                await using var rivalTx = await rival.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct);
                await using (var read = new NpgsqlCommand("SELECT COUNT(*) FROM b", rival, rivalTx))
                {
                    await read.ExecuteScalarAsync(ct);
                }
                await using (var write = new NpgsqlCommand("INSERT INTO a VALUES (1)", rival, rivalTx))
                {
                    await write.ExecuteNonQueryAsync(ct);
                }
                await rivalTx.CommitAsync(ct);
                firstWorkReturned = true;
            }
            return 0;
        });

        Assert.True(firstWorkReturned);
        Assert.Equal(2, attempts);
        Assert.Equal(1, store.Retry.Retries);
        await using var check = new NpgsqlConnection(connectionString);
        await check.OpenAsync();
        await using var rows = new NpgsqlCommand("SELECT (SELECT string_agg(id::text, ',') FROM a) || ' / ' || (SELECT string_agg(id::text, ',') FROM b)", check);
        Assert.Equal("1 / 2", await rows.ExecuteScalarAsync()); // attempt 1's row in b was rolled back
    }

    [SkippableFact]
    public async Task ServersStartingTogetherOnAnEmptyDatabaseAllMigrateIt()
    {
        var connectionString = await PostgresDatabase.CreateAsync("together");
        Skip.If(connectionString is null, "no PostgreSQL cluster configured");

        // Two servers (or atom and a server) started at the same moment on a new database. PostgreSQL's CREATE TABLE
        // IF NOT EXISTS is not safe against a concurrent one: the second fails with 23505 on its catalog (pg_type)
        // when the first commits, and that start-up failed with "cannot prepare the database".
        for (var round = 0; round < 3; round++)
        {
            var database = await PostgresDatabase.CreateAsync($"together{round}");
            var opening = Enumerable.Range(0, 4).Select(_ => Task.Run(() => SolStore.OpenAsync(database!))).ToList();
            var stores = await Task.WhenAll(opening).WaitAsync(TimeSpan.FromSeconds(60));
            var versions = new List<int>();
            foreach (var store in stores)
            {
                versions.Add(await store.SchemaVersionAsync());
                await store.DisposeAsync();
            }
            Assert.True(versions[0] > 0);
            Assert.All(versions, v => Assert.Equal(versions[0], v));
        }
    }

    [Fact]
    public async Task AnUnreachableServerIsOneClearLine()
    {
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => SolStore.OpenAsync("postgresql://sol@127.0.0.1:1/sol?connect_timeout=3"));
        Assert.StartsWith("cannot reach the database at 127.0.0.1:1/sol", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
