using System.CommandLine;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
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
        var parse = root.Parse(WithEnvironment(args, flags, fromEnvironment));
        if (parse.Errors.Count > 0)
        {
            var messages = string.Join("; ", parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Replace('\t', ' ')));
            await error.WriteLineAsync($"sol: {messages}{Source(messages, fromEnvironment)} (see 'sol serve --help')").ConfigureAwait(false);
            return BadInput;
        }
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            await error.WriteLineAsync($"sol: {problem}{Source(problem, fromEnvironment)}").ConfigureAwait(false);
            return BadInput;
        }
        if (options is null)
        {
            return code; // --help or --version
        }
        return await ServerHost.RunAsync(options, error, cancellationToken).ConfigureAwait(false);
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
        private readonly Option<int> _tickRate = new("--tick-rate") { Description = "Simulation ticks (and snapshots) per second, 1..120", DefaultValueFactory = _ => s_defaults.TickRate };
        private readonly Option<int> _zoneWorkers = new("--zone-workers") { Description = "Threads stepping zones (default: core count)", DefaultValueFactory = _ => s_defaults.ZoneWorkers };
        private readonly Option<bool> _pinThreads = new("--pin-threads") { Description = "Pin zone workers to cores (Linux)", DefaultValueFactory = _ => s_defaults.PinThreads };
        private readonly Option<int> _maxConnections = new("--max-connections") { Description = "Most simultaneous game connections", DefaultValueFactory = _ => s_defaults.MaxConnections };
        private readonly Option<string?> _jwtSecretFile = new("--jwt-secret-file") { Description = "File holding the JWT signing secret (else SOL_JWT_SECRET, else generated in the data folder)" };
        private readonly Option<string?> _allowedOrigins = new("--allowed-origins") { Description = "Comma-separated origins allowed to open the game socket (default: any)" };
        private readonly Option<string> _logLevel = new("--log-level") { Description = "trace, debug, information, warning, error, critical or none", DefaultValueFactory = _ => "information" };
        private readonly Option<double> _snapshotInterval = new("--snapshot-interval") { Description = "Seconds between write-behind flushes of player state", DefaultValueFactory = _ => s_defaults.SnapshotInterval.TotalSeconds };
        private readonly Option<string> _gameTransport = new("--game-transport") { Description = "What carries the game socket: pipelines, kestrel or raw (Sol.Transport on that socket kind), or aspnet (ASP.NET Core WebSockets)", DefaultValueFactory = _ => s_defaults.GameTransport.ToString().ToLowerInvariant() };
        private readonly Option<int> _ioThreads = new("--io-threads") { Description = "Raw game transport on Linux: threads that read the game sockets and write their sends (0: the runtime's socket engine and the thread pool instead)", DefaultValueFactory = _ => s_defaults.IoThreads };
        private readonly Option<bool> _ioUring = new("--io-uring") { Description = "Raw game transport's I/O loops: send each loop turn's flushes in one io_uring call where the kernel allows it (false: one sendmsg per flush)", DefaultValueFactory = _ => s_defaults.IoUring };
        private readonly Option<int> _viewShips = new("--view-ships") { Description = "Interest management: in a zone with more ships than this, each client is sent only the nearest this many (0: everything)", DefaultValueFactory = _ => s_defaults.ViewShips };
        private readonly Option<int> _startingSystems = new("--starting-systems") { Description = "How many systems (nearest the galaxy's centre) new players start in", DefaultValueFactory = _ => s_defaults.StartingSystems };
        private readonly Option<int> _guestLogins = new("--guest-logins-per-address") { Description = "Guest logins per client address per 5 minutes, loopback excepted (0: no limit, for load tests from another address)", DefaultValueFactory = _ => s_defaults.GuestLoginsPerAddress };
        private readonly Option<int> _failedLogins = new("--failed-logins-per-address") { Description = "Failed password logins per client address per 5 minutes, over all accounts (0: no limit per address; each account still allows 5 per address and 100 in all)", DefaultValueFactory = _ => s_defaults.FailedLoginsPerAddress };
        private readonly Option<int> _httpPerAddress = new("--http-connections-per-address") { Description = "HTTP API connections from one client address at once, loopback and trusted proxies excepted (0: no limit)", DefaultValueFactory = _ => s_defaults.HttpConnectionsPerAddress };
        private readonly Option<string?> _trustedProxies = new("--trusted-proxies") { Description = "Comma-separated reverse proxies (addresses or networks, e.g. 127.0.0.1,10.0.0.0/8) whose X-Forwarded-For names the client for the HTTP API's per-address limits (default: none, the headers are ignored)" };
        private readonly Option<double> _resumeGrace = new("--resume-grace") { Description = "Seconds a dropped player's ship waits for a resume", DefaultValueFactory = _ => s_defaults.ResumeGrace.TotalSeconds };

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
            var tickRate = parse.GetValue(_tickRate);
            Check(tickRate is >= 1 and <= 120, $"--tick-rate must be 1..120 (got {tickRate})");
            var workers = parse.GetValue(_zoneWorkers);
            Check(workers is >= 1 and <= 256, $"--zone-workers must be 1..256 (got {workers})");
            var maxConnections = parse.GetValue(_maxConnections);
            Check(maxConnections >= 1, $"--max-connections must be at least 1 (got {maxConnections})");
            var interval = parse.GetValue(_snapshotInterval);
            Check(interval is >= 0.1 and <= 3600, $"--snapshot-interval must be between 0.1 and 3600 seconds (got {interval.ToString(CultureInfo.InvariantCulture)})");
            var grace = parse.GetValue(_resumeGrace);
            Check(grace is >= 0 and <= 3600, $"--resume-grace must be between 0 and 3600 seconds (got {grace.ToString(CultureInfo.InvariantCulture)})");
            var startingSystems = parse.GetValue(_startingSystems);
            Check(startingSystems is >= 1 and <= 100_000, $"--starting-systems must be 1..100000 (got {startingSystems})");
            var guestLogins = parse.GetValue(_guestLogins);
            Check(guestLogins is >= 0 and <= 1_000_000, $"--guest-logins-per-address must be 0..1000000 (got {guestLogins})");
            var failedLogins = parse.GetValue(_failedLogins);
            Check(failedLogins is >= 0 and <= 1_000_000, $"--failed-logins-per-address must be 0..1000000 (got {failedLogins})");
            var httpPerAddress = parse.GetValue(_httpPerAddress);
            Check(httpPerAddress is >= 0 and <= 1_000_000, $"--http-connections-per-address must be 0..1000000 (got {httpPerAddress})");
            var ioThreads = parse.GetValue(_ioThreads);
            Check(ioThreads is >= 0 and <= 1024, $"--io-threads must be 0..1024 (got {ioThreads})");
            var viewShips = parse.GetValue(_viewShips);
            Check(viewShips is >= 0 and <= 100_000, $"--view-ships must be 0..100000 (got {viewShips})");
            var db = parse.GetValue(_db)!;
            try
            {
                Persistence.DatabaseAddress.Parse(db);
            }
            catch (ArgumentException e)
            {
                throw new FormatException(e.Message, e);
            }
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
            return new ServerOptions
            {
                Http = Endpoint("--http", parse.GetValue(_http)!),
                Game = Endpoint("--game", parse.GetValue(_game)!),
                Database = db,
                Galaxy = parse.GetValue(_galaxy)!,
                TickRate = tickRate,
                ZoneWorkers = workers,
                PinThreads = parse.GetValue(_pinThreads),
                MaxConnections = maxConnections,
                GameTransport = Enum.Parse<GameTransportKind>(parse.GetValue(_gameTransport)!, ignoreCase: true),
                JwtSecretFile = secretFile,
                JwtSecret = secretText,
                AllowedOrigins = (parse.GetValue(_allowedOrigins) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                LogLevel = Enum.Parse<LogLevel>(parse.GetValue(_logLevel)!, ignoreCase: true),
                SnapshotInterval = TimeSpan.FromSeconds(interval),
                ResumeGrace = TimeSpan.FromSeconds(grace),
                ViewShips = viewShips,
                IoThreads = ioThreads,
                IoUring = parse.GetValue(_ioUring),
                StartingSystems = startingSystems,
                GuestLoginsPerAddress = guestLogins,
                FailedLoginsPerAddress = failedLogins,
                HttpConnectionsPerAddress = httpPerAddress,
                TrustedProxies = Networks("--trusted-proxies", parse.GetValue(_trustedProxies)),
            };
        }

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

        /// <summary>Comma-separated addresses (a network of one) or networks in CIDR notation.</summary>
        private static IPNetwork[] Networks(string flag, string? text)
        {
            var items = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var networks = new IPNetwork[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
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
