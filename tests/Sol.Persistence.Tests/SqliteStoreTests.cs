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

    [Fact]
    public async Task AFileSqliteCanOnlyReadIsOneClearErrorNotAStoreThatFailsEveryWrite()
    {
        // SQLite opens a file it may not write read-only, without a word (as root every file is writable, so the test
        // asks for read-only itself): a server then started and refused every login (helper-71).
        var path = _directory.File("readonly/sol.db");
        await (await SolStore.OpenAsync(path)).DisposeAsync();
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => Sqlite.SqliteStore.CreateAsync(path, exclusive: false, Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly, CancellationToken.None));
        Assert.Contains("is read-only", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(path), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExclusiveOpenRefusesASecondOneUntilTheFirstIsClosed()
    {
        var path = _directory.File("locked/sol.db");
        var first = await SolStore.OpenAsync(path, exclusive: true);
        try
        {
            var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => SolStore.OpenAsync(path, exclusive: true));
            Assert.Contains("in use by another process", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
            // A plain open (atom listing the galaxies) is not refused.
            await using (var reader = await SolStore.OpenAsync(path))
            {
                await reader.SchemaVersionAsync();
            }
        }
        finally
        {
            await first.DisposeAsync();
        }
        // Closed (or the process gone: the kernel drops the lock), the file is free again.
        await (await SolStore.OpenAsync(path, exclusive: true)).DisposeAsync();
    }

    [Fact]
    public async Task ALockFileThatCannotBeOpenedIsNotTakenForARunningServer()
    {
        // Any failure on an existing lock file said "in use by a running server: stop it first" (helper-75: a read-only
        // volume). A socket where the lock file should be fails to open with ENXIO, not with a taken lock.
        var path = _directory.File("odd/sol.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path + ".lock"));
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => SolStore.OpenAsync(path, exclusive: true));
        Assert.StartsWith($"cannot open the lock file {Path.GetFullPath(path)}.lock: ", e.Message, StringComparison.Ordinal);
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
