using Microsoft.Data.Sqlite;
using Npgsql;

namespace Sol.Persistence.Tests;

/// <summary>Which failed writes blame the records written (the write-behind sets those records aside) and which the database.</summary>
public sealed class StoreErrorsTests
{
    [Theory]
    [InlineData("23505", true)]  // unique violation
    [InlineData("23503", true)]  // foreign key violation
    [InlineData("22003", true)]  // numeric value out of range
    [InlineData("40001", false)] // serialization failure (retried; it outlasted its retries)
    [InlineData("08006", false)] // connection failure
    [InlineData("57P01", false)] // admin shutdown
    [InlineData("53300", false)] // too many connections
    public void APostgresErrorBlamesTheRecordOnlyForDataAndConstraintClasses(string sqlState, bool record) =>
        Assert.Equal(record, StoreErrors.IsRecordError(new PostgresException("test", "ERROR", "ERROR", sqlState)));

    [Theory]
    [InlineData(19, true)]       // SQLITE_CONSTRAINT
    [InlineData(19 | (8 << 8), true)] // SQLITE_CONSTRAINT_PRIMARYKEY (an extended code)
    [InlineData(20, true)]       // SQLITE_MISMATCH
    [InlineData(5, false)]       // SQLITE_BUSY
    [InlineData(6, false)]       // SQLITE_LOCKED
    [InlineData(10, false)]      // SQLITE_IOERR
    [InlineData(13, false)]      // SQLITE_FULL
    public void ASqliteErrorBlamesTheRecordOnlyForConstraintsAndValues(int code, bool record) =>
        Assert.Equal(record, StoreErrors.IsRecordError(new SqliteException("test", code)));

    [Fact]
    public void UnreachableTimedOutAndCanceledAreTheDatabasesAnythingElseIsTheRecords()
    {
        Assert.False(StoreErrors.IsRecordError(new StoreUnavailableException("cannot reach the database at 127.0.0.1:5432/sol: refused")));
        Assert.False(StoreErrors.IsRecordError(new TimeoutException()));
        Assert.False(StoreErrors.IsRecordError(new IOException()));
        Assert.False(StoreErrors.IsRecordError(new OperationCanceledException()));
        Assert.False(StoreErrors.IsRecordError(new NpgsqlException("connection reset")));
        Assert.True(StoreErrors.IsRecordError(new ArgumentException("a value the store cannot take")));
        Assert.True(StoreErrors.IsRecordError(new InvalidOperationException("a bug in a store")));
    }
}
