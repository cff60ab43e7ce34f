using Microsoft.Data.Sqlite;
using Npgsql;

namespace Sol.Persistence.Tests;

public sealed class StoreErrorsTests
{
    public static TheoryData<Exception, bool> Cases => new()
    {
        { Postgres("23505"), true },  // unique violation
        { Postgres("23502"), true },  // not null violation
        { Postgres("22P02"), true },  // invalid text representation
        { Postgres("22021"), true },  // a byte sequence the encoding refuses (a NUL in text)
        { Postgres("40001"), false }, // serialization failure left after the store's retries: the transaction's, not the rows'
        { Postgres("57P01"), false }, // the server shutting down
        { Postgres("53300"), false }, // too many connections
        { new SqliteException("constraint failed", 19), true },
        { new SqliteException("UNIQUE constraint failed", 19, 2067), true }, // SQLITE_CONSTRAINT_UNIQUE
        { new SqliteException("UNIQUE constraint failed", 2067), true },     // the extended code where the primary one goes
        { new SqliteException("datatype mismatch", 20), true },
        { new SqliteException("string or blob too big", 18), true },
        { new SqliteException("column index out of range", 25), false }, // a bug in the statement, not the data
        { new SqliteException("database is locked", 5), false },
        { new SqliteException("database table is locked", 6), false },
        { new SqliteException("disk I/O error", 10), false },
        { new InvalidOperationException("wrapped", Postgres("23505")), true },
        { new StoreUnavailableException("cannot reach the database", Postgres("23505")), false },
        { new TimeoutException(), false },
        { new InvalidCastException("a bug in a store"), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ARefusalIsTheDatabaseRefusingTheRowsAndNothingElse(Exception error, bool refusal) =>
        Assert.Equal(refusal, StoreErrors.IsRefusal(error));

    private static PostgresException Postgres(string sqlState) => new("test", "ERROR", "ERROR", sqlState);
}
