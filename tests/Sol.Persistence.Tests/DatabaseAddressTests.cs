using Npgsql;

namespace Sol.Persistence.Tests;

public class DatabaseAddressTests
{
    [Theory]
    [InlineData("./data/sol.db", "./data/sol.db")]
    [InlineData("sqlite:/tmp/x.db", "/tmp/x.db")]
    [InlineData("galaxy.sqlite", "galaxy.sqlite")]
    public void PathsSelectSqlite(string text, string path)
    {
        var address = DatabaseAddress.Parse(text);
        Assert.Equal(DatabaseKind.Sqlite, address.Kind);
        Assert.Equal(path, address.Target);
    }

    [Fact]
    public void APostgresUrlBecomesAConnectionString()
    {
        var address = DatabaseAddress.Parse("postgresql://ada:s%40cret@db.local:5433/sol?sslmode=disable&application_name=atom");
        Assert.Equal(DatabaseKind.Cockroach, address.Kind);
        var b = new NpgsqlConnectionStringBuilder(address.Target);
        Assert.Equal(("db.local", 5433, "sol", "ada", "s@cret", SslMode.Disable, "atom"), (b.Host, b.Port, b.Database, b.Username, b.Password, b.SslMode, b.ApplicationName));
    }

    [Fact]
    public void ACockroachUrlDefaultsToCockroachsPortAndDatabase()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseAddress.Parse("cockroachdb://root@localhost").Target);
        Assert.Equal((26257, "defaultdb", "root"), (b.Port, b.Database, b.Username));
    }

    [Fact]
    public void AnNpgsqlConnectionStringIsTakenAsIs()
    {
        var address = DatabaseAddress.Parse("Host=127.0.0.1;Port=26257;Username=root;Database=sol");
        Assert.Equal(DatabaseKind.Cockroach, address.Kind);
        Assert.Equal("sol", new NpgsqlConnectionStringBuilder(address.Target).Database);
    }

    [Theory]
    [InlineData("mysql://x@y/z", "unknown scheme")]
    [InlineData("postgresql://x@y/z?sslmode=sometimes", "sslmode")]
    [InlineData("postgresql://x@y/z?frobnicate=1", "frobnicate")]
    public void BadAddressesSayWhatIsWrong(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => DatabaseAddress.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
