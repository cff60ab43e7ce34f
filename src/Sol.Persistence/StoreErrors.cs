using Microsoft.Data.Sqlite;
using Npgsql;

namespace Sol.Persistence;

/// <summary>What a store's failure says about its cause, for callers that treat causes differently.</summary>
public static class StoreErrors
{
    // SQLite's primary result codes (the low byte of an extended code): https://sqlite.org/rescode.html
    private const int SqliteTooBig = 18;
    private const int SqliteConstraint = 19;
    private const int SqliteMismatch = 20;

    /// <summary>
    /// The database refused the data it was given, not the request as such: a constraint (a duplicate key, a NOT NULL,
    /// a unique index), a value it cannot store, or one too big. Writing the same rows again fails again, while other
    /// rows go in. SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation) on PostgreSQL and
    /// CockroachDB; CONSTRAINT, MISMATCH and TOOBIG on SQLite.
    /// </summary>
    /// <remarks>
    /// Not a refusal: an unreachable or closed database (<see cref="StoreUnavailableException"/>), a busy or locked one,
    /// a serialization failure (40001) still there after the store's own retries, a timeout, or anything that is not the
    /// database's answer at all (a bug in a store): those are no fault of particular rows.
    /// </remarks>
    public static bool IsRefusal(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case StoreUnavailableException:
                    return false;
                case PostgresException { SqlState: { Length: 5 } state }:
                    return state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal);
                case SqliteException sqlite:
                    // Not RANGE (25): a parameter index out of range is a bug in the statement, not bad data.
                    return (sqlite.SqliteErrorCode & 0xFF) is SqliteTooBig or SqliteConstraint or SqliteMismatch;
            }
        }
        return false;
    }
}
