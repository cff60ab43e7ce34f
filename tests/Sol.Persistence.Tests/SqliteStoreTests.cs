using Sol.Testing;

namespace Sol.Persistence.Tests;

public sealed class SqliteStoreTests : StoreContract, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override async Task<ISolStore?> CreateStoreAsync() => await SolStore.OpenAsync(_directory.File($"{Guid.NewGuid():N}/sol.db"));

    [Fact]
    public async Task TheFileIsInWalMode()
    {
        var path = _directory.File("wal.db");
        await using (var store = await SolStore.OpenAsync(path))
        {
            Assert.Equal("sqlite", store.Kind);
        }
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task AnUnusablePathIsOneClearError()
    {
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => SolStore.OpenAsync("/proc/sol/forbidden/sol.db"));
        Assert.Contains("/proc/sol/forbidden", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
