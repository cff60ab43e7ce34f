namespace Sol.Persistence;

/// <summary>
/// One database holding galaxies and players. Two implementations share one schema and one contract test suite:
/// <see cref="Sqlite.SqliteStore"/> (embedded, the default) and <see cref="Cockroach.CockroachStore"/> (CockroachDB, or
/// PostgreSQL, through Npgsql). Open one with <see cref="SolStore.OpenAsync(string, CancellationToken)"/>. Thread-safe: each call takes its own
/// connection from the provider's pool.
/// </summary>
public interface ISolStore : IGalaxyStore, IPlayerStore, IAsyncDisposable
{
    /// <summary>"sqlite" or "cockroach".</summary>
    string Kind { get; }

    /// <summary>Where it points, without secrets (for logs).</summary>
    string Description { get; }

    /// <summary>Applies pending migrations; safe to call from several processes at once.</summary>
    Task MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>The schema version after migration.</summary>
    Task<int> SchemaVersionAsync(CancellationToken cancellationToken = default);
}
