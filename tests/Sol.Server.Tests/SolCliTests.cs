using System.Net;
using System.Net.Sockets;
using Sol.Server.Cli;
using Sol.Server.Hosting;
using Sol.Testing;

namespace Sol.Server.Tests;

public class SolCliTests
{
    [Theory]
    [InlineData("--tick-rate must be a whole number from 1 to 120 (got '0')", "--tick-rate", "0")]
    [InlineData("--tick-rate must be a whole number from 1 to 120 (got 'fast')", "--tick-rate", "fast")]
    [InlineData("--zone-workers must be a whole number from 1 to 256 (got '0')", "--zone-workers", "0")]
    [InlineData("--http: 'nowhere' is not an address", "--http", "nowhere")]
    [InlineData("--game: '127.0.0.1' is not an address", "--game", "127.0.0.1")]
    [InlineData("--http and --game cannot both be port 8080", "--http", "127.0.0.1:8080", "--game", "127.0.0.1:8080")] // before: "address already in use"
    [InlineData("--http and --game cannot both be port 7000", "--http", "0.0.0.0:7000", "--game", "127.0.0.1:7000")]
    [InlineData("'loud' not recognized", "--log-level", "loud")]
    [InlineData("'carrier' not recognized", "--game-transport", "carrier")]
    [InlineData("--jwt-secret-file: no such file", "--jwt-secret-file", "/nonexistent/secret")]
    [InlineData("unknown scheme", "--db", "mysql://x@y/z")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not 'abc'", "--db", "postgresql://sol@127.0.0.1/sol?connect_timeout=abc")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not '99999999999'", "--db", "postgresql://sol@127.0.0.1/sol?connect_timeout=99999999999")]
    [InlineData("--db: connect_timeout must be a whole number of seconds from 0 to 1024, not '-5'", "--db", "postgresql://sol@127.0.0.1/sol?connect_timeout=-5")]
    [InlineData("--db: not a valid connection string", "--db", "Host=127.0.0.1;Timeout=99999999999")]
    [InlineData("Unrecognized command or argument '--frobnicate'", "--frobnicate")]
    [InlineData("--snapshot-interval must be a number of seconds from 0.1 to 3600 (got '0')", "serve", "--snapshot-interval", "0")]
    [InlineData("--view-ships must be a whole number from 0 to 100000 (got '-1')", "--view-ships", "-1")]
    [InlineData("--io-threads must be a whole number from 0 to 1024 (got '2000')", "--io-threads", "2000")]
    [InlineData("Unrecognized command or argument 'sometimes'", "--io-uring", "sometimes")] // a bool flag takes true or false
    [InlineData("--starting-systems must be a whole number from 1 to 100000 (got '0')", "--starting-systems", "0")]
    [InlineData("--guest-logins-per-address must be a whole number from 0 to 1000000 (got '-1')", "--guest-logins-per-address", "-1")]
    [InlineData("--failed-logins-per-address must be a whole number from 0 to 1000000 (got '-1')", "--failed-logins-per-address", "-1")]
    [InlineData("--http-connections-per-address must be a whole number from 0 to 1000000 (got '-1')", "--http-connections-per-address", "-1")]
    [InlineData("--http: '::1' is not an address", "--http", "::1")] // the runtime's parser: port 0
    [InlineData("--http: '1:18282' is not an address", "--http", "1:18282")] // the runtime's parser: 0.0.0.1
    [InlineData("--game: '127.0.0.1:+80' is not an address", "--game", "127.0.0.1:+80")]
    [InlineData("--snapshot-interval must be a number of seconds from 0.1 to 3600 (got '0.00000001')", "--snapshot-interval", "0.00000001")]
    [InlineData("--db: 'sqlite:' names no SQLite file", "--db", "sqlite:")]
    [InlineData("--trusted-proxies: 'proxy.example' is not an address or a network", "--trusted-proxies", "127.0.0.1,proxy.example")]
    [InlineData("--trusted-proxies: '10.0.0.1/8' is not an address or a network", "--trusted-proxies", "10.0.0.1/8")]
    [InlineData("--trusted-proxies: '10.0.0.0/33' is not an address or a network", "--trusted-proxies", "10.0.0.0/33")]
    [InlineData("--trusted-proxies: '10' is not an address or a network", "--trusted-proxies", "10")] // the runtime's parser: 0.0.0.10
    [InlineData("--trusted-proxies: '10.1/16' is not an address or a network", "--trusted-proxies", "10.1/16")] // the runtime's parser: 10.0.0.1/16
    [InlineData("--trusted-proxies: an empty entry in '127.0.0.1,,10.0.0.0/8'", "--trusted-proxies", "127.0.0.1,,10.0.0.0/8")]
    [InlineData("--trusted-proxies: an empty entry in ''", "--trusted-proxies", "")]
    public async Task ABadFlagIsOneLineAndExitCode2(string expected, params string[] args)
    {
        var (code, error) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--allowed-origins: 'http://127.0.0.1:46080/game' is not a web origin", "http://127.0.0.1:46080/game")]
    [InlineData("--allowed-origins: '127.0.0.1:46080' is not a web origin", "127.0.0.1:46080")]
    [InlineData("--allowed-origins: 'localhost:8080' is not a web origin", "localhost:8080")]
    [InlineData("--allowed-origins: 'not a url' is not a web origin", "not a url,,")]
    [InlineData("--allowed-origins: 'ws://127.0.0.1:8080' is not a web origin", "ws://127.0.0.1:8080")]
    [InlineData("--allowed-origins: 'http://example.com?x=1' is not a web origin", "http://example.com?x=1")]
    [InlineData("--allowed-origins: 'http://sol@example.com' is not a web origin", "http://sol@example.com")]
    [InlineData("--allowed-origins: 'http://*.example.com' is not a web origin", "http://*.example.com")]
    [InlineData("--allowed-origins: an empty entry in 'http://a.example,,http://b.example'", "http://a.example,,http://b.example")]
    [InlineData("--allowed-origins: an empty entry in 'http://a.example,'", "http://a.example,")]
    [InlineData("--allowed-origins: an empty entry in ''", "")]
    public async Task AnOriginNoBrowserSendsIsOneLineAndExitCode2(string expected, string origins)
    {
        // Before: taken as given, and then every browser's socket was refused with 403.
        var error = await RefusedAsync("--allowed-origins", origins);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrustedProxiesTakeAddressesAndNetworksOfBothFamilies()
    {
        var (code, options) = await ParseAsync("--trusted-proxies", " 127.0.0.1 , ::1,10.0.0.0/8, fd00::/8");
        Assert.Equal(0, code);
        Assert.Equal(["127.0.0.1/32", "::1/128", "10.0.0.0/8", "fd00::/8"], options!.TrustedProxies.Select(n => n.ToString()));
        (code, options) = await ParseAsync("--log-level", "none");
        Assert.Equal(0, code);
        Assert.Empty(options!.TrustedProxies); // X-Forwarded-For ignored
    }

    [Fact]
    public async Task AllowedOriginsAreKeptAsABrowserSendsThem()
    {
        // The game port compares the Origin header with each entry, ignoring case.
        var (code, options) = await ParseAsync("--allowed-origins", " http://127.0.0.1:46080/ ,HTTPS://Play.Example.COM:443,http://[::1]:8080,https://bücher.example:8443,http://127.0.0.1:80");
        Assert.Equal(0, code);
        Assert.Equal(["http://127.0.0.1:46080", "https://play.example.com", "http://[::1]:8080", "https://xn--bcher-kva.example:8443", "http://127.0.0.1"], options!.AllowedOrigins);
        (code, options) = await ParseAsync("--log-level", "none");
        Assert.Equal(0, code);
        Assert.Empty(options!.AllowedOrigins); // any origin
    }

    [Theory]
    [InlineData("--snapshot-interval must be a number of seconds from 0.1 to 3600 (got '0,5'; write decimals with a '.')", "--snapshot-interval", "0,5")] // before: every 5 s
    [InlineData("--resume-grace must be a number of seconds from 0 to 3600 (got '0,5,0,0'; write decimals with a '.')", "--resume-grace", "0,5,0,0")] // before: 50 s
    [InlineData("--resume-grace must be a number of seconds from 0 to 3600 (got '1,000'; write decimals with a '.')", "--resume-grace", "1,000")]
    public async Task ADecimalCommaIsRefusedNotReadAsAThousandsSeparator(string expected, params string[] args)
    {
        var error = await RefusedAsync(args);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NumbersAreReadTheSameWhateverTheCulture()
    {
        // A culture with a decimal comma and '.' between thousands: the runtime's parser read "0.5" there as 5.
        var culture = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        var before = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = culture;
        try
        {
            var (code, options) = await ParseAsync("--snapshot-interval", "0.5", "--resume-grace", "2.5", "--tick-rate", "30");
            Assert.Equal(0, code);
            Assert.Equal(TimeSpan.FromSeconds(0.5), options!.SnapshotInterval);
            Assert.Equal(TimeSpan.FromSeconds(2.5), options.ResumeGrace);
            Assert.Equal(30, options.TickRate);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = before;
        }
    }

    [Theory]
    [InlineData("--max-connections must be a whole number from 1 to 2147483647 (got '99999999999')", "--max-connections", "99999999999")]
    [InlineData("--max-connections must be a whole number from 1 to 2147483647 (got 'lots')", "--max-connections", "lots")]
    [InlineData("--zone-workers must be a whole number from 1 to 256 (got '1.5')", "--zone-workers", "1.5")]
    [InlineData("--view-ships must be a whole number from 0 to 100000 (got '1,000')", "--view-ships", "1,000")]
    [InlineData("--snapshot-interval must be a number of seconds from 0.1 to 3600 (got 'soon')", "--snapshot-interval", "soon")]
    [InlineData("--resume-grace must be a number of seconds from 0 to 3600 (got 'NaN')", "--resume-grace", "NaN")]
    public async Task ANumberThatIsNotOneOrOutOfRangeNamesTheRangeNotATypeName(string expected, params string[] args)
    {
        var error = await RefusedAsync(args);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sol: --db cannot be empty (give a SQLite file path, or a postgresql:// or cockroachdb:// URL)", "--db", "")]
    [InlineData("sol: --db cannot be empty (give a SQLite file path, or a postgresql:// or cockroachdb:// URL)", "--db", "  ")]
    [InlineData("sol: --galaxy cannot be empty (name a galaxy, e.g. main)", "--galaxy", "")]
    [InlineData("sol: --galaxy cannot be empty (name a galaxy, e.g. main)", "--galaxy", " ")]
    public async Task AnEmptyDatabaseOrGalaxyIsOneLineAndExitCode2(string expected, params string[] args)
    {
        // Before: --db "" gave the runtime's message naming a parameter, and --galaxy "" served a galaxy named ''.
        Assert.Equal(expected, (await RefusedAsync(args)).Trim());
    }

    [Theory]
    [InlineData("--tick-rate", "--tick-rate", "30", "--tick-rate")] // before: 30 Hz
    [InlineData("--http", "--http", "127.0.0.1:0", "--http")] // before: bound 127.0.0.1:0
    [InlineData("--tick-rate", "--tick-rate", "20", "--tick-rate", "30")]
    [InlineData("--snapshot-interval", "serve", "--snapshot-interval", "1", "--snapshot-interval")]
    [InlineData("--pin-threads", "--pin-threads", "false", "--pin-threads")]
    public async Task AFlagGivenTwiceIsOneLineAndExitCode2(string flag, params string[] args)
    {
        Assert.Equal($"sol: {flag} is given more than once (see 'sol serve --help')", (await RefusedAsync(args)).Trim());
    }

    [Theory]
    [InlineData("help")]
    [InlineData("help", "serve")]
    public async Task HelpPrintsTheHelp(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await SolCli.RunAsync(args, output, error);
        Assert.Equal(0, code);
        Assert.Empty(error.ToString());
        Assert.Contains("Usage:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("--tick-rate", output.ToString(), StringComparison.Ordinal);
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

    /// <summary>
    /// Runs sol with <paramref name="args"/>, expecting exit code 2 and one line, which it returns. Flags the arguments
    /// leave out are set so that, were the arguments taken (as before the checks), the server would fail at once (exit
    /// code 1: a data folder it cannot make) rather than serve.
    /// </summary>
    private static async Task<string> RefusedAsync(params string[] args)
    {
        // Before the arguments (after "serve"): a flag they end with stays last, with no value.
        string[] failFast = ["--db", "/proc/sol-test/sol.db", "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none"];
        var serve = args is ["serve", ..] ? 1 : 0;
        var all = new List<string>(args[..serve]);
        for (var i = 0; i < failFast.Length; i += 2)
        {
            if (!args.Contains(failFast[i]))
            {
                all.AddRange(failFast.AsSpan(i, 2));
            }
        }
        all.AddRange(args[serve..]);
        var (code, error) = await RunAsync([.. all]);
        Assert.True(code == 2, $"exit code {code}: {error}");
        Assert.Single(error.Trim().Split('\n'));
        return error;
    }

    private static async Task<(int Code, ServerOptions? Options)> ParseAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var result = await SolCli.ParseAsync(args, output, error);
        Assert.True(result.Code == 0, error.ToString());
        return result;
    }

    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await SolCli.RunAsync(args, output, error);
        return (code, error.ToString());
    }
}
