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

    [Fact]
    public async Task DisposingAStoreClosesItsOwnFileAndNoOtherStores()
    {
        var kept = _directory.File("kept.db");
        var closed = _directory.File("closed.db");
        await using var other = await SolStore.OpenAsync(kept);
        await other.SchemaVersionAsync(); // its pooled connection stays open
        var store = await SolStore.OpenAsync(closed);
        await store.SchemaVersionAsync();
        Assert.NotEqual(0, OpenDescriptors(closed));

        await store.DisposeAsync();
        Assert.Equal(0, OpenDescriptors(closed));
        Assert.NotEqual(0, OpenDescriptors(kept)); // before, disposing one store closed every store's pooled connections
    }

    /// <summary>This process's open descriptors on <paramref name="path"/> (Linux).</summary>
    private static int OpenDescriptors(string path)
    {
        var full = Path.GetFullPath(path);
        return Directory.GetFiles("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget == full;
            }
            catch (IOException)
            {
                return false; // closed meanwhile
            }
        });
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}
