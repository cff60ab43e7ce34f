using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Sol.Core.Cli;
using Sol.Server.Game.Port;
using Sol.Server.Hosting;

namespace Sol.Server.Cli;

/// <summary>
/// The <c>sol</c> command line. <c>sol serve</c> (also plain <c>sol</c>) runs the server. Every flag has a <c>SOL_*</c>
/// environment variable (the flag's name, upper-cased, dashes as underscores); a flag on the command line wins.
/// Exit codes: 0 clean stop; 1 cannot start (port in use, database unreachable); 2 bad flag or variable.
/// </summary>
public static class SolCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var (code, options) = await ParseAsync(args, output, error, cancellationToken).ConfigureAwait(false);
        if (options is null)
        {
            return code;
        }
        try
        {
            // Here, before the start loads ASP.NET Core: past this point a limit this low ends the process in the loader.
            FileBudget.CheckRoomToStart(Sol.Core.Processes.OpenFiles.Limit(), Sol.Core.Processes.OpenFiles.Count());
        }
        catch (ServerStartException e)
        {
            await error.WriteLineAsync($"sol: {e.Message}").ConfigureAwait(false);
            return Failed;
        }
        return await ServerHost.RunAsync(options, error, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the command line and the <c>SOL_*</c> variables: the options to run the server with, or none and the exit
    /// code (help or the version printed, or a bad flag told in one line on <paramref name="error"/>).
    /// </summary>
    internal static async Task<(int Code, ServerOptions? Options)> ParseAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var flags = new ServeFlags();
        var serve = new Command("serve", "Run the game server (the default command)");
        flags.AddTo(serve);
        var root = new RootCommand("sol: the Sol game server. Every flag can also be set by an environment variable: SOL_ and the flag name, e.g. SOL_TICK_RATE=30 (a flag on the command line wins); SOL_JWT_SECRET holds the token secret itself.") { serve };
        flags.AddTo(root);

        ServerOptions? options = null;
        string? problem = null;
        void Bind(ParseResult parse)
        {
            try
            {
                options = flags.Bind(parse);
            }
            catch (FormatException e)
            {
                problem = e.Message;
            }
        }
        serve.SetAction(Bind);
        root.SetAction(Bind);

        var fromEnvironment = new Dictionary<string, (string Variable, string Value)>(StringComparer.Ordinal);
        var parse = root.Parse(WithEnvironment(FlagValues.HelpCommand(args), flags, fromEnvironment));
        if (FlagValues.Problems(parse, flags.All) is { } messages)
        {
            await error.WriteLineAsync($"sol: {messages}{Source(messages, fromEnvironment)} (see 'sol serve --help')").ConfigureAwait(false);
            return (BadInput, null);
        }
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            await error.WriteLineAsync($"sol: {problem}{Source(problem, fromEnvironment)}").ConfigureAwait(false);
            return (BadInput, null);
        }
        return (code, options); // no options: --help or --version
    }

    /// <summary>Adds <c>--flag value</c> for each <c>SOL_*</c> variable whose flag is not on the command line.</summary>
    private static string[] WithEnvironment(string[] args, ServeFlags flags, Dictionary<string, (string Variable, string Value)> fromEnvironment)
    {
        var result = new List<string>(args);
        if (result.Count > 0 && (result[0] is "--help" or "-h" or "-?" or "--version"))
        {
            return args;
        }
        foreach (var option in flags.All)
        {
            var variable = "SOL_" + option.Name.TrimStart('-').Replace('-', '_').ToUpperInvariant();
            var value = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(value) || args.Any(a => a == option.Name || a.StartsWith(option.Name + "=", StringComparison.Ordinal)))
            {
                continue;
            }
            result.Add(option.Name);
            result.Add(value);
            fromEnvironment[option.Name] = (variable, value);
        }
        return [.. result];
    }

    /// <summary>" (from SOL_X)" when the message is about a flag, or quotes a value, that came from the environment
    /// (a bool flag's bad value is reported only as an unrecognized argument).</summary>
    private static string Source(string message, Dictionary<string, (string Variable, string Value)> fromEnvironment)
    {
        foreach (var (flag, (variable, value)) in fromEnvironment)
        {
            if (message.Contains($"'{flag}'", StringComparison.Ordinal) || message.StartsWith(flag + ":", StringComparison.Ordinal) ||
                message.StartsWith(flag + " ", StringComparison.Ordinal) || message.Contains($"'{value}'", StringComparison.Ordinal))
            {
                return $" (from {variable})";
            }
        }
        return "";
    }

    /// <summary>The flags of <c>sol serve</c>, with their defaults and checks.</summary>
    private sealed class ServeFlags
    {
        private static readonly ServerOptions s_defaults = new();

        private readonly Option<string> _http = new("--http") { Description = "HTTP API address (host:port)", DefaultValueFactory = _ => Format(s_defaults.Http) };
        private readonly Option<string> _game = new("--game") { Description = "Game WebSocket address (host:port)", DefaultValueFactory = _ => Format(s_defaults.Game) };
        private readonly Option<string> _db = new("--db") { Description = "Database: a SQLite file, or a postgresql:// / cockroachdb:// URL", DefaultValueFactory = _ => s_defaults.Database };
        private readonly Option<string> _galaxy = new("--galaxy") { Description = "Galaxy to serve (generated with default parameters if missing)", DefaultValueFactory = _ => s_defaults.Galaxy };
        private readonly Option<int> _tickRate = FlagValues.Whole("--tick-rate", "Simulation ticks (and snapshots) per second, 1..120", 1, 120, s_defaults.TickRate);
        private readonly Option<int> _zoneWorkers = FlagValues.Whole("--zone-workers", "Threads stepping zones (default: core count)", 1, 256, s_defaults.ZoneWorkers);
        private readonly Option<bool> _pinThreads = new("--pin-threads") { Description = "Pin zone workers to cores (Linux)", DefaultValueFactory = _ => s_defaults.PinThreads };
        private readonly Option<int> _maxConnections = FlagValues.Whole("--max-connections", "Most simultaneous game connections", 1, int.MaxValue, s_defaults.MaxConnections);
        private readonly Option<string?> _jwtSecretFile = new("--jwt-secret-file") { Description = "File holding the JWT signing secret (else SOL_JWT_SECRET, else generated in the data folder)" };
        private readonly Option<string?> _allowedOrigins = new("--allowed-origins") { Description = "Comma-separated origins allowed to open the game socket (default: any)" };
        private readonly Option<string> _logLevel = new("--log-level") { Description = "trace, debug, information, warning, error, critical or none", DefaultValueFactory = _ => "information" };
        private readonly Option<double> _snapshotInterval = FlagValues.Seconds("--snapshot-interval", "Seconds between write-behind flushes of player state", 0.1, 3600, s_defaults.SnapshotInterval.TotalSeconds);
        private readonly Option<string> _gameTransport = new("--game-transport") { Description = "What carries the game socket: pipelines, kestrel or raw (Sol.Transport on that socket kind), or aspnet (ASP.NET Core WebSockets)", DefaultValueFactory = _ => s_defaults.GameTransport.ToString().ToLowerInvariant() };
        private readonly Option<int> _ioThreads = FlagValues.Whole("--io-threads", "Raw game transport on Linux: threads that read the game sockets and write their sends (0: the runtime's socket engine and the thread pool instead)", 0, 1024, s_defaults.IoThreads);
        private readonly Option<bool> _ioUring = new("--io-uring") { Description = "Raw game transport's I/O loops: send each loop turn's flushes in one io_uring call where the kernel allows it (false: one sendmsg per flush)", DefaultValueFactory = _ => s_defaults.IoUring };
        private readonly Option<int> _viewShips = FlagValues.Whole("--view-ships", "Interest management: in a zone with more ships than this, each client is sent only the nearest this many (0: everything)", 0, 100_000, s_defaults.ViewShips);
        private readonly Option<int> _startingSystems = FlagValues.Whole("--starting-systems", "How many systems (nearest the galaxy's centre) new players start in", 1, 100_000, s_defaults.StartingSystems);
        private readonly Option<int> _guestLogins = FlagValues.Whole("--guest-logins-per-address", "Guest logins per client address per 5 minutes, loopback excepted (0: no limit, for load tests from another address)", 0, 1_000_000, s_defaults.GuestLoginsPerAddress);
        private readonly Option<int> _failedLogins = FlagValues.Whole("--failed-logins-per-address", "Failed password logins per client address per 5 minutes, over all accounts (0: no limit per address; each account still allows 5 per address and 100 in all)", 0, 1_000_000, s_defaults.FailedLoginsPerAddress);
        private readonly Option<int> _httpPerAddress = FlagValues.Whole("--http-connections-per-address", "HTTP API connections from one client address at once, loopback and trusted proxies excepted (0: no limit)", 0, 1_000_000, s_defaults.HttpConnectionsPerAddress);
        private readonly Option<string?> _trustedProxies = new("--trusted-proxies") { Description = "Comma-separated reverse proxies (addresses or networks, e.g. 127.0.0.1,10.0.0.0/8) whose X-Forwarded-For names the client for the HTTP API's per-address limits (default: none, the headers are ignored)" };
        private readonly Option<double> _resumeGrace = FlagValues.Seconds("--resume-grace", "Seconds a dropped player's ship waits for a resume", 0, 3600, s_defaults.ResumeGrace.TotalSeconds);

        public ServeFlags()
        {
            _logLevel.AcceptOnlyFromAmong("trace", "debug", "information", "warning", "error", "critical", "none");
            _gameTransport.AcceptOnlyFromAmong("pipelines", "kestrel", "raw", "aspnet");
            All = [_http, _game, _db, _galaxy, _tickRate, _zoneWorkers, _pinThreads, _maxConnections, _gameTransport, _ioThreads, _ioUring, _jwtSecretFile, _allowedOrigins, _logLevel, _snapshotInterval, _resumeGrace, _viewShips, _startingSystems, _guestLogins, _failedLogins, _httpPerAddress, _trustedProxies];
        }

        public Option[] All { get; }

        public void AddTo(Command command)
        {
            foreach (var option in All)
            {
                command.Options.Add(option);
            }
        }

        public ServerOptions Bind(ParseResult parse)
        {
            var db = parse.GetValue(_db)!;
            Check(!string.IsNullOrWhiteSpace(db), "--db cannot be empty (give a SQLite file path, or a postgresql:// or cockroachdb:// URL)");
            try
            {
                Persistence.DatabaseAddress.Parse(db);
            }
            catch (ArgumentException e)
            {
                throw new FormatException(e.Message, e);
            }
            var galaxy = parse.GetValue(_galaxy)!;
            Check(!string.IsNullOrWhiteSpace(galaxy), "--galaxy cannot be empty (name a galaxy, e.g. main)");
            var secretFile = parse.GetValue(_jwtSecretFile);
            Check(secretFile is null || File.Exists(secretFile), $"--jwt-secret-file: no such file '{secretFile}'");
            var secretText = Environment.GetEnvironmentVariable("SOL_JWT_SECRET") is { Length: > 0 } secret ? secret : null;
            try
            {
                // The secret given is checked here (one line, exit 2); one generated in the data folder, at start.
                _ = Auth.TokenService.GivenSecret(secretFile, secretText);
            }
            catch (InvalidDataException e)
            {
                throw new FormatException(e.Message, e);
            }
            var http = Endpoint("--http", parse.GetValue(_http)!);
            var game = Endpoint("--game", parse.GetValue(_game)!);
            // Both on one port: the second to bind said "address already in use", as if another process had it.
            Check(http.Port == 0 || http.Port != game.Port || !Overlap(http.Address, game.Address), $"--http and --game cannot both be port {http.Port} (the HTTP API and the game each listen on their own)");
            return new ServerOptions
            {
                Http = http,
                Game = game,
                Database = db,
                Galaxy = galaxy,
                TickRate = parse.GetValue(_tickRate),
                ZoneWorkers = parse.GetValue(_zoneWorkers),
                PinThreads = parse.GetValue(_pinThreads),
                MaxConnections = parse.GetValue(_maxConnections),
                GameTransport = Enum.Parse<GameTransportKind>(parse.GetValue(_gameTransport)!, ignoreCase: true),
                JwtSecretFile = secretFile,
                JwtSecret = secretText,
                AllowedOrigins = Origins("--allowed-origins", parse.GetValue(_allowedOrigins)),
                LogLevel = Enum.Parse<LogLevel>(parse.GetValue(_logLevel)!, ignoreCase: true),
                SnapshotInterval = TimeSpan.FromSeconds(parse.GetValue(_snapshotInterval)),
                ResumeGrace = TimeSpan.FromSeconds(parse.GetValue(_resumeGrace)),
                ViewShips = parse.GetValue(_viewShips),
                IoThreads = parse.GetValue(_ioThreads),
                IoUring = parse.GetValue(_ioUring),
                StartingSystems = parse.GetValue(_startingSystems),
                GuestLoginsPerAddress = parse.GetValue(_guestLogins),
                FailedLoginsPerAddress = parse.GetValue(_failedLogins),
                HttpConnectionsPerAddress = parse.GetValue(_httpPerAddress),
                TrustedProxies = Networks("--trusted-proxies", parse.GetValue(_trustedProxies)),
            };
        }

        /// <summary>Whether listening on both addresses would take the same port (the same address, or one of them any).</summary>
        private static bool Overlap(IPAddress a, IPAddress b) =>
            a.Equals(b) || a.Equals(IPAddress.Any) || b.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) || b.Equals(IPAddress.IPv6Any);

        /// <summary>
        /// HOST:PORT with the port always given: HOST is four dotted numbers, an IPv6 address in brackets, or
        /// localhost. (The runtime's own parser takes "::1" as port 0 and "1" as 0.0.0.1.)
        /// </summary>
        private static IPEndPoint Endpoint(string flag, string text)
        {
            var colon = text.LastIndexOf(':');
            if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
            {
                var host = text[..colon];
                if (host == "localhost")
                {
                    return new IPEndPoint(IPAddress.Loopback, port);
                }
                if (host is ['[', .., ']'] && IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                {
                    return new IPEndPoint(v6, port);
                }
                if (host.Count(c => c == '.') == 3 && IPAddress.TryParse(host, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                {
                    return new IPEndPoint(v4, port);
                }
            }
            throw new FormatException($"{flag}: '{text}' is not an address (use HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:7777)");
        }

        /// <summary>
        /// Comma-separated web origins, SCHEME://HOST[:PORT] with SCHEME http or https, written as a browser sends them in
        /// its Origin header, which the game port compares them with (ignoring case): a trailing "/" dropped, the scheme
        /// and host in lower case, an IDN host in punycode, a default port (80, 443) left out. None when the flag is not
        /// given; an empty entry, a path, a query or a user name is refused, as no Origin header would ever match it.
        /// </summary>
        private static string[] Origins(string flag, string? text)
        {
            if (text is null)
            {
                return [];
            }
            var items = text.Split(',', StringSplitOptions.TrimEntries);
            var origins = new string[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                var item = items[i];
                Check(item.Length > 0, $"{flag}: an empty entry in '{text}' (list origins such as http://127.0.0.1:8080, separated by single commas)");
                // After "://" come the host and an optional port, then at most a bare "/" (no path, query, fragment or user).
                var scheme = item.IndexOf("://", StringComparison.Ordinal);
                var end = scheme < 0 ? -1 : item.IndexOfAny(['/', '?', '#', '\\', '@'], scheme + 3);
                Uri? uri = null;
                Check(
                    scheme > 0 && (end < 0 || item[end..] == "/") && Uri.TryCreate(item, UriKind.Absolute, out uri) &&
                    uri.Scheme is "http" or "https" && uri.Host.Length > 0,
                    $"{flag}: '{item}' is not a web origin (use http:// or https://, a host and an optional port, no path: e.g. http://127.0.0.1:8080)");
                var host = uri!.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
                origins[i] = uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{host}:{uri.Port}");
            }
            return origins;
        }

        /// <summary>Comma-separated addresses (a network of one) or networks in CIDR notation.</summary>
        /// <summary>
        /// Comma-separated addresses and networks. None when the flag is not given; an empty entry is refused (as in
        /// --allowed-origins), and so is an IPv4 address in the runtime's short forms ("10" is 0.0.0.10, "10.1" is
        /// 10.0.0.1), which an operator never means.
        /// </summary>
        private static IPNetwork[] Networks(string flag, string? text)
        {
            if (text is null)
            {
                return [];
            }
            var items = text.Split(',', StringSplitOptions.TrimEntries);
            var networks = new IPNetwork[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                Check(items[i].Length > 0, $"{flag}: an empty entry in '{text}' (list addresses or networks such as 127.0.0.1 or 10.0.0.0/8, separated by single commas)");
                var host = items[i].AsSpan(0, items[i].Contains('/', StringComparison.Ordinal) ? items[i].IndexOf('/', StringComparison.Ordinal) : items[i].Length);
                Check(host.Contains(':') || host.Count('.') == 3, $"{flag}: '{items[i]}' is not an address or a network (use e.g. 127.0.0.1, ::1 or 10.0.0.0/8, an IPv4 address with all four numbers)");
                if (IPAddress.TryParse(items[i], out var address) && !items[i].Contains('/', StringComparison.Ordinal))
                {
                    networks[i] = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
                }
                else if (!IPNetwork.TryParse(items[i], out networks[i]) ||
                         !IPAddress.TryParse(items[i].AsSpan(0, items[i].IndexOf('/', StringComparison.Ordinal)), out var written) ||
                         !written.Equals(networks[i].BaseAddress))
                {
                    // (The runtime takes 10.0.0.1/8 as 10.0.0.0/8; an operator who wrote it may have meant one host.)
                    throw new FormatException($"{flag}: '{items[i]}' is not an address or a network (use e.g. 127.0.0.1, ::1 or 10.0.0.0/8, a network's address zero past its prefix)");
                }
            }
            return networks;
        }

        private static string Format(IPEndPoint endpoint) => endpoint.ToString();

        private static void Check(bool condition, string message)
        {
            if (!condition)
            {
                throw new FormatException(message);
            }
        }
    }
}
