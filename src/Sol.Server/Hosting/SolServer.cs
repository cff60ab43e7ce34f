using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Server.Assets;
using Sol.Server.Auth;
using Sol.Server.Game;
using Sol.Server.Http;
using Sol.Server.Game.Port;
using Sol.Server.Metrics;
using Sol.Server.Progress;
using Sol.Core.Protocol;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Server.Hosting;

/// <summary>
/// One running server: the store, the galaxy, the HTTP API (Kestrel) and the game port. Start with
/// <see cref="StartAsync"/> (binds everything, port 0 allowed), stop with <see cref="StopAsync"/>. Used by
/// <c>sol serve</c> and, in-process, by the end-to-end tests.
/// </summary>
public sealed class SolServer : IAsyncDisposable
{
    private readonly WebApplication _http;
    private readonly ILogger _log;
    private readonly GameParts _game;
    private readonly Task<Exception> _gameFailed;
    private readonly ServingLease? _lease;
    private int _stopped;

    private SolServer(ServerOptions options, ISolStore store, GalaxyModel galaxy, Guid galaxyId, WebApplication http, ServerMetrics metrics, GameParts game, Task<Exception> gameFailed, ServingLease? lease, ILoggerFactory loggers)
    {
        _gameFailed = gameFailed;
        _lease = lease;
        Options = options;
        Store = store;
        Galaxy = galaxy;
        GalaxyId = galaxyId;
        _http = http;
        Metrics = metrics;
        _game = game;
        _log = loggers.CreateLogger("sol");
    }

    /// <summary>The game port's address, with the port actually bound.</summary>
    public IPEndPoint GameEndpoint => _game.Port.Endpoint;

    /// <summary>The zone world (for tests that look at the simulation).</summary>
    public ZoneWorld World => _game.World;

    public ZoneScheduler Scheduler => _game.Scheduler;

    public GameHub Hub => _game.Hub;

    public PlayerWriteBehind Progress => _game.Progress;

    public ServerOptions Options { get; }

    public ISolStore Store { get; }

    public GalaxyModel Galaxy { get; }

    public Guid GalaxyId { get; }

    public ServerMetrics Metrics { get; }

    /// <summary>
    /// Completes (with its exception) if the game loop stops on an error: no zone steps after it, so the process should
    /// stop and be started again (<c>sol serve</c> does so, exit code 1); <c>/healthz</c> answers 503 from then on.
    /// Also when another server took the galaxy over (a <see cref="GalaxyTakenOverException"/>, see <see cref="ServingLease"/>).
    /// </summary>
    public Task<Exception> GameFailed => _gameFailed;

    /// <summary>The HTTP API's base address, with the port actually bound.</summary>
    public Uri HttpAddress { get; private set; } = null!;

    public static async Task<SolServer> StartAsync(ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var log = loggers.CreateLogger("sol");
        options = WithinOpenFileLimit(options, log);

        // The secret first: a bad one stops the start before anything is made (a galaxy generated, a database created).
        var dataDirectory = options.ResolveDataDirectory();
        byte[] secret;
        bool generated;
        try
        {
            secret = TokenService.LoadSecret(options.JwtSecretFile, options.JwtSecret, dataDirectory, out generated);
        }
        catch (InvalidDataException e)
        {
            throw new ServerStartException(e.Message, e);
        }

        ISolStore store;
        try
        {
            store = await SolStore.OpenAsync(options.Database, exclusive: true, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            throw new ServerStartException(e.Message, e);
        }

        ServingLease? lease = null;
        var gameFailed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var (summary, galaxy) = await LoadOrGenerateGalaxyAsync(store, options, log, cancellationToken).ConfigureAwait(false);
            if (store.Kind == "cockroach")
            {
                // Before anything is served: a second server on the galaxy stops here (an embedded file is locked instead).
                lease = await ServingLease.TakeAsync(store, summary.Id, summary.Name, options.LeaseTerm, TimeProvider.System, log, e => gameFailed.TrySetResult(e), cancellationToken).ConfigureAwait(false);
            }
            AssetCatalog assets;
            GameRules rules;
            try
            {
                assets = AssetCatalog.Load(options.AssetsDirectory);
                rules = GameRules.Load(assets);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                throw new ServerStartException($"cannot load the game assets: {e.Message}", e);
            }

            if (generated)
            {
                log.LogWarning("No JWT secret given (--jwt-secret-file or SOL_JWT_SECRET): generated one in {Path}; tokens stay valid only while that file does", Path.Combine(dataDirectory, "jwt-secret"));
            }
            var tokens = new TokenService(secret, TimeSpan.FromHours(1), audience: TokenService.AudienceFor(summary.Id));
            try
            {
                tokens.Restore(await store.ListLogoutsAsync(DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false)); // a restart keeps them
            }
            catch (Exception e) when (e is System.Data.Common.DbException or StoreUnavailableException)
            {
                // A role that was not granted the table (schema version 3), say: serving matters more.
                log.LogWarning("Cannot read the logged-out sessions ({Reason}): tokens of logins that logged out before this start are not refused", e.Message.ReplaceLineEndings(" "));
            }
            try
            {
                // Addresses of accounts not used for 30 days (a use trims only its own account's rows).
                await store.ForgetAccountAddressesAsync(DateTimeOffset.UtcNow - KnownAddresses.KeptFor, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or StoreUnavailableException)
            {
                log.LogWarning("Cannot delete the addresses accounts used more than 30 days ago ({Reason}); they are not used, only kept", e.Message.ReplaceLineEndings(" "));
            }
            var clock = new GalaxyClock(summary.CreatedAt, TimeProvider.System);
            var players = new PlayerDirectory(store, galaxy, summary.Id, rules, clock, options.StartingSystems);
            var metrics = new ServerMetrics();

            var game = await StartGameAsync(options, loggers, store, summary.Id, galaxy, rules, tokens, players, clock, metrics, gameFailed, cancellationToken).ConfigureAwait(false);
            players.ZoneTime = () => game.World.Options.TimeAt(Math.Max(0, game.World.Tick));
            var known = new KnownAddresses(store, secret, options.ThrottleClock, loggers.CreateLogger("sol.http"));
            var http = BuildHttp(options, loggers, store, summary.Name, galaxy, assets, tokens, known, players, metrics, game, gameFailed.Task);
            var server = new SolServer(options, store, galaxy, summary.Id, http, metrics, game, gameFailed.Task, lease, loggers);
            try
            {
                await http.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (ServerStartException.CannotListen(e) is { } why)
            {
                await http.DisposeAsync().ConfigureAwait(false);
                await game.DisposeAsync().ConfigureAwait(false);
                throw new ServerStartException($"cannot listen for HTTP on {options.Http}: {why}", e);
            }
            server.HttpAddress = new Uri(http.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            game.Scheduler.Start();
            log.LogInformation(
                "HTTP API on {Address}, game port on ws://{Game}/ws ({Transport}); galaxy '{Galaxy}' ({Systems} systems) from {Store}; {Workers} zone workers at {TickRate} Hz",
                server.HttpAddress, game.Port.Endpoint, game.Port.Description, summary.Name, galaxy.Systems.Length, store.Description, options.ZoneWorkers, options.TickRate);
            if (options.TrustedProxies.Count > 0)
            {
                log.LogInformation("HTTP API: X-Forwarded-For names the client when sent by {Proxies}", string.Join(", ", options.TrustedProxies));
            }
            return server;
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidDataException or StoreUnavailableException)
        {
            // Read at the start: the galaxy (a corrupt one fails its hash check), the colonies; a damaged file or a
            // database gone meanwhile. One line for the operator, not a stack trace.
            await DisposeAsync(lease, store).ConfigureAwait(false);
            throw new ServerStartException($"cannot start on {store.Description}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        catch
        {
            await DisposeAsync(lease, store).ConfigureAwait(false);
            throw;
        }

        static async Task DisposeAsync(ServingLease? lease, ISolStore store)
        {
            if (lease is not null)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }
            await store.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async Task StopAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        // Stop accepting and close every client with 1001; their ships leave; then the simulation stops, every
        // player's last state is staged and flushed, and only then the HTTP API and the database go.
        await _game.DisposeAsync(timeout).ConfigureAwait(false);
        using var cancel = new CancellationTokenSource(timeout);
        await _http.StopAsync(cancel.Token).ConfigureAwait(false);
        await _http.DisposeAsync().ConfigureAwait(false);
        if (_lease is not null)
        {
            await _lease.DisposeAsync().ConfigureAwait(false); // after the last save: the next server may take over
        }
        await Store.DisposeAsync().ConfigureAwait(false);
        _log.LogInformation("stopped");
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);


    private static async Task<(Sol.Persistence.Model.GalaxySummary Summary, GalaxyModel Model)> LoadOrGenerateGalaxyAsync(ISolStore store, ServerOptions options, ILogger log, CancellationToken cancellationToken)
    {
        if (await store.LoadGalaxyAsync(options.Galaxy, cancellationToken).ConfigureAwait(false) is { } loaded)
        {
            return loaded;
        }
        var seed = (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        log.LogInformation("No galaxy '{Galaxy}' in {Store}: generating one with default parameters ({Zones} zones, seed {Seed})", options.Galaxy, store.Description, options.DefaultGalaxyZones, seed);
        var galaxy = GalaxyGenerator.Generate(options.Galaxy, GalaxyParameters.Default(options.DefaultGalaxyZones, seed));
        try
        {
            await store.SaveGalaxyAsync(galaxy, replace: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (GalaxyExistsException)
        {
            // Another server generated it meanwhile; serve that one.
        }
        return (await store.LoadGalaxyAsync(options.Galaxy, cancellationToken).ConfigureAwait(false))!.Value;
    }

    private static async Task<GameParts> StartGameAsync(
        ServerOptions options, ILoggerFactory loggers, ISolStore store, Guid galaxyId, GalaxyModel galaxy, GameRules rules,
        TokenService tokens, PlayerDirectory players, GalaxyClock clock, ServerMetrics metrics, TaskCompletionSource<Exception> failed, CancellationToken cancellationToken)
    {
        var log = loggers.CreateLogger("sol.game");
        var world = new ZoneWorld(galaxy, new ZoneOptions
        {
            TickRate = options.TickRate,
            StartTime = clock.Now, // planets go on from where they were at the last stop (orbits are closed form in time)
            ShipClasses = [.. rules.Ships.Select(s => new ShipClass(s.Id, s.MaxSpeed, s.Thrust, (float)s.TurnRate, (float)s.Hull))],
            NpcShipClass = rules.ShipIndex(rules.NpcShip),
            Seed = galaxy.Parameters.Seed,
        });
        var colonies = await store.ListColoniesAsync(galaxyId, null, cancellationToken).ConfigureAwait(false);
        var progress = new PlayerWriteBehind(store, options.SnapshotInterval, loggers.CreateLogger("sol.progress"), new TickPacer(options.TickRate));
        var hub = new GameHub(world, rules, tokens, players, progress, metrics, options, clock, colonies, store, log);
        var scheduler = new ZoneScheduler(world, new SchedulerOptions
        {
            Workers = options.ZoneWorkers,
            PinThreads = options.PinThreads,
            Observer = hub,
            Log = message => log.LogInformation("{Message}", message),
            Faulted = e =>
            {
                log.LogCritical(e, "The game loop stopped on an error: no zone steps any more. The server stops (every player is saved) so that it can be started again");
                failed.TrySetResult(e);
            },
        });
        var listener = ListenToScheduler(scheduler, metrics);
        IGamePort port;
        try
        {
            port = options.GameTransport == GameTransportKind.AspNet
                ? await AspNetGamePort.StartAsync(options, hub, loggers, cancellationToken).ConfigureAwait(false)
                : await TransportGamePort.StartAsync(options, hub, loggers, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            listener.Dispose();
            scheduler.Dispose();
            await progress.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        hub.Port = port;
        metrics.GameConnectionsRefused = () => port.RefusedForRoom;
        return new GameParts(world, scheduler, hub, port, progress, listener, log);
    }

    /// <summary>Feeds the scheduler's tick-duration histogram and overrun counter into the Prometheus metrics.</summary>
    private static MeterListener ListenToScheduler(ZoneScheduler scheduler, ServerMetrics metrics)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, scheduler.Meter) && instrument.Name is "sol.zones.worker.tick.duration" or "sol.zones.tick.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, milliseconds, _, _) =>
            (instrument.Name == "sol.zones.tick.duration" ? metrics.TickTotal : metrics.TickDuration).Record(milliseconds / 1000.0));
        listener.Start();
        metrics.Overruns = () => scheduler.Overruns;
        metrics.InputLosses = scheduler.World.InputLosses;
        metrics.ZonesAwake = () => scheduler.World.AwakeCount;
        return listener;
    }

    /// <summary>The options with the connection limits the process's open-file limit allows (see <see cref="FileBudget"/>).</summary>
    private static ServerOptions WithinOpenFileLimit(ServerOptions options, ILogger log)
    {
        if (FileBudget.Plan(Sol.Core.Processes.OpenFiles.Limit(), Sol.Core.Processes.OpenFiles.Count(), options.MaxConnections, options.MaxPendingHandshakes) is not { } budget)
        {
            return options;
        }
        if (budget.GameConnections < options.MaxConnections)
        {
            log.LogWarning(
                "The open-file limit ({Limit}, {Open} in use) allows {Game} game connections, not the {Asked} of --max-connections: raise it (ulimit -n, or LimitNOFILE= in a systemd unit) for more",
                budget.Limit, budget.Open, budget.GameConnections, options.MaxConnections);
        }
        return options with
        {
            MaxConnections = budget.GameConnections,
            MaxPendingHandshakes = budget.PendingHandshakes,
            MaxHttpConnections = Math.Min(budget.HttpConnections, options.MaxHttpConnections ?? long.MaxValue), // a lower one given stays
        };
    }

    private static WebApplication BuildHttp(
        ServerOptions options, ILoggerFactory loggers, ISolStore store, string galaxyName, GalaxyModel galaxy, AssetCatalog assets,
        TokenService tokens, KnownAddresses known, PlayerDirectory players, ServerMetrics metrics, GameParts game, Task<Exception> gameFailed)
    {
        var (port, hub) = (game.Port, game.Hub);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sol" });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(_ => PasswordWork.ForThisMachine()); // made by the container: disposed with the app
        var gate = new HttpConnectionGate(
            options.MaxHttpConnections, options.HttpConnectionsPerAddress, options.TrustedProxies, metrics, loggers.CreateLogger("sol.http"), TimeProvider.System);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The connection limits are the gate's (Kestrel's own logs a warning for every connection it refuses).
            kestrel.Listen(options.Http, listen => listen.Use(next => connection => gate.RunAsync(connection, next)));
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
            // A request head sent slowly holds its connection this long at most (Kestrel's default is 30 s).
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            // The API is used in bursts (a page load, a login, an hourly token refresh); the game socket carries the rest.
            // Idle keep-alive connections hold open files (FileBudget), so they are let go after 15 s, not Kestrel's 130.
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(15);
        });
        var app = builder.Build();
        app.Urls.Clear();
        if (options.TrustedProxies.Count > 0)
        {
            // Only the proxies named: the middleware's own defaults (loopback) are cleared, so that without the flag a
            // client cannot pick its address with a header, and with it only the named proxies can.
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
                ForwardLimit = null, // as many hops as are trusted: it stops at the first address that is not a proxy
            };
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in options.TrustedProxies)
            {
                forwarded.KnownIPNetworks.Add(network);
            }
            app.UseForwardedHeaders(forwarded);
        }
        ErrorBodies.Use(app, loggers.CreateLogger("sol.http"));

        AuthEndpoints.Map(app, store, tokens, players, hub, new LoginThrottle(options.ThrottleClock), known, options.GuestLoginsPerAddress, options.FailedLoginsPerAddress, options.FailedLoginsPerAccount, app.Services.GetRequiredService<PasswordWork>());
        AssetEndpoints.Map(app, assets);
        GalaxyEndpoints.Map(app, galaxyName, galaxy, options.ThrottleClock);
        app.MapMethods("/api/config", ReadMethods.GetOrHead, () => Results.Json(new { gamePort = port.Endpoint.Port, gamePath = "/ws", tickRate = options.TickRate, protocols = ProtocolVersion.Supported }));
        // A database outage is told in the body but stays 200: play goes on through it (progress is kept and written when
        // the database is back), and restarting this process would not bring the database back.
        var database = new DatabaseProbe(store, game.Progress, TimeProvider.System);
        app.MapMethods("/healthz", ReadMethods.GetOrHead, async () => gameFailed.IsCompleted
            ? Results.Json(new { status = "failed", galaxy = galaxyName, connections = metrics.ConnectionsOpen, database = await database.StateAsync().ConfigureAwait(false), error = gameFailed.Result is GalaxyTakenOverException ? gameFailed.Result.Message : $"the game loop stopped: {gameFailed.Result.Message}" }, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(new { status = "ok", galaxy = galaxyName, connections = metrics.ConnectionsOpen, database = await database.StateAsync().ConfigureAwait(false) }));
        app.MapMethods("/metrics", ReadMethods.GetOrHead, () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        MeEndpoints.Map(app, tokens, hub);
        ClientEndpoints.Map(app, options.ClientDirectory);
        return app;
    }
}
