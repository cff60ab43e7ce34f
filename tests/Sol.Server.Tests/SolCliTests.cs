using System.Net;
using System.Net.Sockets;
using Sol.Server.Cli;
using Sol.Testing;

namespace Sol.Server.Tests;

public class SolCliTests
{
    [Theory]
    [InlineData("--tick-rate must be 1..120", "--tick-rate", "0")]
    [InlineData("Cannot parse argument 'fast'", "--tick-rate", "fast")]
    [InlineData("--zone-workers must be 1..256", "--zone-workers", "0")]
    [InlineData("--http: 'nowhere' is not an address", "--http", "nowhere")]
    [InlineData("--game: '127.0.0.1' is not an address", "--game", "127.0.0.1")]
    [InlineData("'loud' not recognized", "--log-level", "loud")]
    [InlineData("'carrier' not recognized", "--game-transport", "carrier")]
    [InlineData("--jwt-secret-file: no such file", "--jwt-secret-file", "/nonexistent/secret")]
    [InlineData("unknown scheme", "--db", "mysql://x@y/z")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not 'abc'", "--db", "postgresql://sol@127.0.0.1/sol?connect_timeout=abc")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not '99999999999'", "--db", "postgresql://sol@127.0.0.1/sol?connect_timeout=99999999999")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not '-5'", "--db", "postgresql://sol@127.0.0.1/sol?connect_timeout=-5")]
    [InlineData("--db: not a valid connection string", "--db", "Host=127.0.0.1;Timeout=99999999999")]
    [InlineData("Unrecognized command or argument '--frobnicate'", "--frobnicate")]
    [InlineData("--snapshot-interval must be between", "serve", "--snapshot-interval", "0")]
    [InlineData("--view-ships must be 0..100000", "--view-ships", "-1")]
    [InlineData("--io-threads must be 0..1024", "--io-threads", "2000")]
    [InlineData("Unrecognized command or argument 'sometimes'", "--io-uring", "sometimes")] // a bool flag takes true or false
    [InlineData("--starting-systems must be 1..100000", "--starting-systems", "0")]
    [InlineData("--guest-logins-per-address must be 0..1000000", "--guest-logins-per-address", "-1")]
    [InlineData("--failed-logins-per-address must be 0..1000000", "--failed-logins-per-address", "-1")]
    [InlineData("--http-connections-per-address must be 0..1000000", "--http-connections-per-address", "-1")]
    [InlineData("--http: '::1' is not an address", "--http", "::1")] // the runtime's parser: port 0
    [InlineData("--http: '1:18282' is not an address", "--http", "1:18282")] // the runtime's parser: 0.0.0.1
    [InlineData("--game: '127.0.0.1:+80' is not an address", "--game", "127.0.0.1:+80")]
    [InlineData("--snapshot-interval must be between 0.1 and 3600 seconds (got 1E-08)", "--snapshot-interval", "0.00000001")]
    [InlineData("--db: 'sqlite:' names no SQLite file", "--db", "sqlite:")]
    [InlineData("--trusted-proxies: 'proxy.example' is not an address or a network", "--trusted-proxies", "127.0.0.1,proxy.example")]
    [InlineData("--trusted-proxies: '10.0.0.1/8' is not an address or a network", "--trusted-proxies", "10.0.0.1/8")]
    [InlineData("--trusted-proxies: '10.0.0.0/33' is not an address or a network", "--trusted-proxies", "10.0.0.0/33")]
    public async Task ABadFlagIsOneLineAndExitCode2(string expected, params string[] args)
    {
        var (code, error) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task ABadBoolFromTheEnvironmentNamesItsVariable()
    {
        Environment.SetEnvironmentVariable("SOL_PIN_THREADS", "maybe"); // this class's tests run one at a time
        try
        {
            var (code, error) = await RunAsync("--log-level", "none");
            Assert.Equal(2, code);
            Assert.Contains("'maybe'", error, StringComparison.Ordinal);
            Assert.Contains("(from SOL_PIN_THREADS)", error, StringComparison.Ordinal);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOL_PIN_THREADS", null);
        }
    }

    [Theory]
    [InlineData("--http", "HTTP")]
    [InlineData("--game", "the game")]
    public async Task AnAddressThisHostDoesNotHaveIsOneLineAndExitCode1(string flag, string what)
    {
        // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a local address. Before: an unhandled SocketException, exit 134.
        using var directory = new TempDirectory();
        string[] args = ["--db", directory.File("sol.db"), "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none"];
        args[Array.IndexOf(args, flag) + 1] = "192.0.2.1:0";
        var (code, error) = await RunAsync(args);
        Assert.Equal(1, code);
        Assert.Equal($"sol: cannot listen for {what} on 192.0.2.1:0: cannot assign requested address", error.Trim());
    }

    [Fact]
    public async Task ACorruptGalaxyOrDamagedDatabaseIsOneLineAndExitCode1()
    {
        using var directory = new TempDirectory();
        var database = directory.File("sol.db");
        await using (var made = await TestServer.StartAsync(database))
        {
        }
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE systems SET x = x + 1 WHERE id = 1";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var (code, error) = await RunAsync("--db", database, "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none");
        Assert.Equal(1, code);
        Assert.StartsWith($"sol: cannot start on ", error.Trim(), StringComparison.Ordinal);
        Assert.Contains("galaxy 'main' is corrupt", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));

        // Pages past the header overwritten (a disk fault): found when the galaxy is read.
        var bytes = await File.ReadAllBytesAsync(database);
        Array.Fill(bytes, (byte)0xA5, 4096 * 3, Math.Min(4096 * 8, bytes.Length - (4096 * 3)));
        await File.WriteAllBytesAsync(database, bytes);
        (code, error) = await RunAsync("--db", database, "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none");
        Assert.Equal(1, code);
        Assert.StartsWith("sol: ", error.Trim(), StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsOneLineAndExitCode1()
    {
        var (code, error) = await RunAsync("--db", "postgresql://sol@127.0.0.1:1/sol?connect_timeout=3", "--http", "127.0.0.1:0", "--game", "127.0.0.1:0");
        Assert.Equal(1, code);
        Assert.Equal("sol: cannot reach the database at 127.0.0.1:1/sol: Connection refused", error.Trim());
    }

    [Fact]
    public async Task APortInUseIsOneLineAndExitCode1()
    {
        using var directory = new TempDirectory();
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var (code, error) = await RunAsync("--db", directory.File("sol.db"), "--http", $"127.0.0.1:{port}", "--game", "127.0.0.1:0", "--log-level", "none");
        Assert.Equal(1, code);
        Assert.Equal($"sol: cannot listen for HTTP on 127.0.0.1:{port}: address already in use", error.Trim());
    }

    [Theory]
    [InlineData("pipelines")]
    [InlineData("kestrel")]
    [InlineData("raw")]
    [InlineData("aspnet")]
    public async Task AGamePortInUseIsOneLineAndExitCode1(string transport)
    {
        using var directory = new TempDirectory();
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var (code, error) = await RunAsync("--db", directory.File("sol.db"), "--http", "127.0.0.1:0", "--game", $"127.0.0.1:{port}", "--game-transport", transport, "--log-level", "none");
        Assert.Equal(1, code);
        Assert.Equal($"sol: cannot listen for the game on 127.0.0.1:{port}: address already in use", error.Trim());
    }

    [Fact]
    public async Task AJwtSecretTooShortIsOneLineAndExitCode2()
    {
        using var directory = new TempDirectory();
        var file = directory.File("secret");
        await File.WriteAllTextAsync(file, "tooshort\n");
        var (code, error) = await RunAsync("--jwt-secret-file", file, "--db", directory.File("sol.db"));
        Assert.Equal(2, code);
        Assert.Equal("sol: --jwt-secret-file: the JWT secret must be at least 32 bytes (256 bits) for HS256, not 8", error.Trim());

        // The variable the same way (read by the CLI only; this class's tests run one at a time).
        Environment.SetEnvironmentVariable("SOL_JWT_SECRET", "tooshort");
        try
        {
            (code, error) = await RunAsync("--db", directory.File("sol.db"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOL_JWT_SECRET", null);
        }
        Assert.Equal(2, code);
        Assert.Equal("sol: SOL_JWT_SECRET: the JWT secret must be at least 32 bytes (256 bits) for HS256, not 8", error.Trim());
        Assert.False(File.Exists(directory.File("sol.db")));
    }

    [Fact]
    public async Task ADataFolderThatCannotBeMadeIsOneLineAndExitCode1()
    {
        // The generated secret is kept in the database's folder, made before the store opens it.
        var (code, error) = await RunAsync("--db", "/proc/sol-test/sol.db", "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none");
        Assert.Equal(1, code);
        Assert.StartsWith("sol: cannot keep a new JWT secret in /proc/sol-test: ", error.Trim(), StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task ACorruptGeneratedJwtSecretIsOneLineAndExitCode1AndMakesNothing()
    {
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.File("jwt-secret"), "not base64 at all!");
        var (code, error) = await RunAsync("--db", directory.File("sol.db"), "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none");
        Assert.Equal(1, code);
        Assert.StartsWith($"sol: cannot read the JWT secret {directory.File("jwt-secret")} (", error.Trim(), StringComparison.Ordinal);
        Assert.EndsWith("delete it to make a new one (tokens issued with the old one stop working)", error.Trim(), StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(directory.File("sol.db"))); // before, the galaxy was generated first
    }

    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await SolCli.RunAsync(args, output, error);
        return (code, error.ToString());
    }
}
