using Npgsql;
using Sol.Persistence.Cockroach;
using Sol.Persistence.Sqlite;

namespace Sol.Persistence;

/// <summary>Opens the store a <c>--db</c> value names.</summary>
public static class SolStore
{
    /// <summary>The server's and atom's default database: the embedded SQLite file.</summary>
    public const string DefaultDatabase = "./data/sol.db";

    /// <summary>
    /// Opens and migrates the store that <paramref name="database"/> names: a <c>postgresql://</c>, <c>postgres://</c> or
    /// <c>cockroachdb://</c> URL, or an Npgsql connection string (<c>Host=...</c>), selects CockroachDB; anything else is a
    /// SQLite file path (optionally <c>sqlite:PATH</c>). Throws <see cref="StoreUnavailableException"/> with a one-line
    /// message when the database cannot be reached, and <see cref="ArgumentException"/> for a malformed address.
    /// </summary>
    public static async Task<ISolStore> OpenAsync(string database, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        ISolStore store = DatabaseAddress.Parse(database) switch
        {
            { Kind: DatabaseKind.Cockroach } a => await CockroachStore.CreateAsync(a.Target, cancellationToken).ConfigureAwait(false),
            var a => await SqliteStore.CreateAsync(a.Target, cancellationToken).ConfigureAwait(false),
        };
        try
        {
            await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or Microsoft.Data.Sqlite.SqliteException)
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw new StoreUnavailableException($"cannot prepare the database {store.Description}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return store;
    }
}
