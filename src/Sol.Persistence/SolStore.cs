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
    public static Task<ISolStore> OpenAsync(string database, CancellationToken cancellationToken = default) =>
        OpenAsync(database, exclusive: false, cancellationToken);

    /// <inheritdoc cref="OpenAsync(string, CancellationToken)"/>
    /// <param name="database">The <c>--db</c> value.</param>
    /// <param name="exclusive">The server's open: an embedded file is locked while the store is open, and a second
    /// exclusive open of it (another server) is refused with a <see cref="StoreUnavailableException"/>. No effect on
    /// CockroachDB/PostgreSQL, where one server per galaxy is the operator's to keep.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    public static async Task<ISolStore> OpenAsync(string database, bool exclusive, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        ISolStore store = DatabaseAddress.Parse(database) switch
        {
            { Kind: DatabaseKind.Cockroach } a => await CockroachStore.CreateAsync(a.Target, cancellationToken).ConfigureAwait(false),
            var a => await SqliteStore.CreateAsync(a.Target, exclusive, cancellationToken).ConfigureAwait(false),
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
