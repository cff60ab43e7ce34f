using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Sol.Persistence;

/// <summary>What a failed write says about its cause: the database, or the records written.</summary>
public static class StoreErrors
{
    /// <summary>
    /// True when <paramref name="error"/> blames what was written rather than the database being unreachable or busy: an
    /// integrity constraint or a value the database refuses (PostgreSQL / CockroachDB SQLSTATE classes 22 and 23, SQLite's
    /// CONSTRAINT, MISMATCH, TOOBIG and RANGE), or an exception that is not the database's at all (a bug in a store, a value
    /// it cannot convert). Everything else from the database (connection failures, timeouts, serialization failures that
    /// outlasted their retries, SQLite's BUSY and LOCKED, unknown codes) is not: writing again later may succeed.
    /// </summary>
    public static bool IsRecordError(Exception error) => error switch
    {
        StoreUnavailableException or TimeoutException or IOException or OperationCanceledException => false,
        PostgresException postgres => postgres.SqlState.StartsWith("22", StringComparison.Ordinal) || postgres.SqlState.StartsWith("23", StringComparison.Ordinal),
        SqliteException sqlite => (sqlite.SqliteErrorCode & 0xFF) is 18 or 19 or 20 or 25,
        NpgsqlException or DbException => false,
        _ => true,
    };
}
