using System.Net;
using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Server.Game.Port;

namespace Sol.Server.Hosting;

/// <summary>Everything an operator can set, from flags or their <c>SOL_*</c> environment variables.</summary>
public sealed record ServerOptions
{
    public IPEndPoint Http { get; init; } = new(IPAddress.Loopback, 8080);

    public IPEndPoint Game { get; init; } = new(IPAddress.Loopback, 7777);

    public string Database { get; init; } = SolStore.DefaultDatabase;

    public string Galaxy { get; init; } = "main";

    public int TickRate { get; init; } = 20;

    public int ZoneWorkers { get; init; } = Environment.ProcessorCount;

    public bool PinThreads { get; init; } = true;

    public int MaxConnections { get; init; } = 10_000;

    /// <summary>Game sockets still in their handshake at most (beyond: closed at once). Set from the open-file limit.</summary>
    public int MaxPendingHandshakes { get; init; } = 1024;

    /// <summary>HTTP API connections at most (beyond: closed at once); null: no limit. Set from the open-file limit.</summary>
    public long? MaxHttpConnections { get; init; }

    /// <summary>
    /// HTTP API connections from one client address (an IPv6 /64) at once; beyond, closed at once. Loopback and the
    /// trusted proxies are not limited. 0 = no limit.
    /// </summary>
    public int HttpConnectionsPerAddress { get; init; } = 64;

    /// <summary>The clock of the HTTP API's rate limits (logins, registrations, guests, routes): tests hold it still.</summary>
    public TimeProvider ThrottleClock { get; init; } = TimeProvider.System;

    /// <summary>What carries the game port: Sol.Transport on its own raw socket loop (default), on
    /// Pipelines.Sockets.Unofficial or on Kestrel's sockets, or ASP.NET Core's WebSockets (the baseline).</summary>
    public GameTransportKind GameTransport { get; init; } = GameTransportKind.Raw;

    /// <summary>With the raw game transport on Linux: threads that read the game sockets and write their sends (epoll
    /// loops; 0 = the runtime's socket engine and the thread pool instead). Default: one per core.</summary>
    public int IoThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>With the raw game transport's I/O loops: send each loop turn's flushes in one io_uring call where the
    /// kernel allows it (else, or when false, one <c>sendmsg</c> per flush).</summary>
    public bool IoUring { get; init; } = true;

    /// <summary>A file holding the JWT signing secret; null: <see cref="JwtSecret"/>, else a generated one in the data folder.</summary>
    public string? JwtSecretFile { get; init; }

    /// <summary>The JWT secret itself (from <c>SOL_JWT_SECRET</c>).</summary>
    public string? JwtSecret { get; init; }

    /// <summary>Origins allowed to open the game WebSocket (browser <c>Origin</c> header); empty: any.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>How often changed player state is written to the database.</summary>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// On CockroachDB/PostgreSQL, how long the lease on serving the galaxy lasts unrenewed (<see cref="ServingLease"/>):
    /// renewed every third of it; a server that finds it held waits up to this long at its start.
    /// </summary>
    public TimeSpan LeaseTerm { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a disconnected player's ship waits for its client to resume.</summary>
    public TimeSpan ResumeGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the server keeps its own files (generated secret); default: the SQLite file's folder, or ./data.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The game assets folder; default: <c>assets</c> beside the executable.</summary>
    public string AssetsDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "assets");

    /// <summary>The built web client served at <c>/</c> (client/dist, copied there by the build); default: <c>wwwroot</c>
    /// beside the executable, or <c>SOL_CLIENT_DIR</c>.</summary>
    public string ClientDirectory { get; init; } =
        Environment.GetEnvironmentVariable("SOL_CLIENT_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "wwwroot");

    /// <summary>How long a connection may go on after its token expired before it is closed with 4001 (a client
    /// refreshes over HTTP and sends <c>Reauth</c> within it).</summary>
    public TimeSpan TokenGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Interest management: in a zone with more moving ships (players and NPCs) than this, each client is
    /// sent only the nearest this many (and its own ship), encoded for it; in smaller zones every client gets the one
    /// shared snapshot. 0 = always everything.</summary>
    public int ViewShips { get; init; } = 96;

    /// <summary>How many systems (nearest the galaxy's centre) new players start in.</summary>
    public int StartingSystems { get; init; } = 4;

    /// <summary>
    /// Guest logins per client address per 5 minutes (loopback is never limited); 0 = no limit, for load tests that
    /// reach the server through a non-loopback address.
    /// </summary>
    public int GuestLoginsPerAddress { get; init; } = 60;

    /// <summary>
    /// Failed password logins per client address per 5 minutes, over all accounts (each account also allows 5); 0 = no
    /// limit per address. Raise it when many players share one address (a carrier-grade NAT, a campus).
    /// </summary>
    public int FailedLoginsPerAddress { get; init; } = Auth.LoginThrottle.PerAddress;

    /// <summary>
    /// Failed password logins per account per 5 minutes over all addresses (each address allows 5); an address that
    /// logged in to the account before is not held by it. Not a flag (tests lower it).
    /// </summary>
    public int FailedLoginsPerAccount { get; init; } = Auth.LoginThrottle.PerAccountAllAddresses;

    /// <summary>
    /// Reverse proxies (addresses or networks) whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> the HTTP API
    /// believes: a request from one of them counts as from the client it names, for the per-address limits and the
    /// loopback exemption. Empty (the default): those headers are ignored and the connection's address is the client's.
    /// </summary>
    public IReadOnlyList<IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>Zones generated when the database has no galaxy of <see cref="Galaxy"/>'s name.</summary>
    public int DefaultGalaxyZones { get; init; } = 200;

    public string ResolveDataDirectory() =>
        DataDirectory ?? (DatabaseAddress.Parse(Database) is { Kind: DatabaseKind.Sqlite } sqlite
            ? Path.GetDirectoryName(Path.GetFullPath(sqlite.Target))!
            : Path.GetFullPath("data"));
}
