using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Server.Assets;
using Sol.Server.Auth;
using Sol.Server.Game;
using Sol.Server.Http;
using Sol.Server.Metrics;

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
    private int _stopped;

    private SolServer(ServerOptions options, ISolStore store, GalaxyModel galaxy, Guid galaxyId, WebApplication http, ServerMetrics metrics, ILoggerFactory loggers)
    {
        Options = options;
        Store = store;
        Galaxy = galaxy;
        GalaxyId = galaxyId;
        _http = http;
        Metrics = metrics;
        _log = loggers.CreateLogger("sol");
    }

    public ServerOptions Options { get; }

    public ISolStore Store { get; }

    public GalaxyModel Galaxy { get; }

    public Guid GalaxyId { get; }

    public ServerMetrics Metrics { get; }

    /// <summary>The HTTP API's base address, with the port actually bound.</summary>
    public Uri HttpAddress { get; private set; } = null!;

    public static async Task<SolServer> StartAsync(ServerOptions options, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var log = loggers.CreateLogger("sol");

        ISolStore store;
        try
        {
            store = await SolStore.OpenAsync(options.Database, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            throw new ServerStartException(e.Message, e);
        }

        try
        {
            var (summary, galaxy) = await LoadOrGenerateGalaxyAsync(store, options, log, cancellationToken).ConfigureAwait(false);
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

            var dataDirectory = options.ResolveDataDirectory();
            var secret = TokenService.LoadSecret(options.JwtSecretFile, options.JwtSecret, dataDirectory, out var generated);
            if (generated)
            {
                log.LogWarning("No JWT secret given (--jwt-secret-file or SOL_JWT_SECRET): generated one in {Path}; tokens stay valid only while that file does", Path.Combine(dataDirectory, "jwt-secret"));
            }
            var tokens = new TokenService(secret, TimeSpan.FromHours(1));
            var clock = new GalaxyClock(summary.CreatedAt, TimeProvider.System);
            var players = new PlayerDirectory(store, galaxy, summary.Id, rules, clock, startingSystems: 4);
            var metrics = new ServerMetrics();

            var http = BuildHttp(options, loggers, store, summary.Name, galaxy, assets, tokens, players, metrics);
            var server = new SolServer(options, store, galaxy, summary.Id, http, metrics, loggers);
            try
            {
                await http.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await http.DisposeAsync().ConfigureAwait(false);
                throw new ServerStartException($"cannot listen for HTTP on {options.Http}: address already in use", e);
            }
            server.HttpAddress = new Uri(http.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            log.LogInformation("HTTP API on {Address}; galaxy '{Galaxy}' ({Systems} systems) from {Store}", server.HttpAddress, summary.Name, galaxy.Systems.Length, store.Description);
            return server;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task StopAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        using var cancel = new CancellationTokenSource(timeout);
        await _http.StopAsync(cancel.Token).ConfigureAwait(false);
        await _http.DisposeAsync().ConfigureAwait(false);
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

    private static WebApplication BuildHttp(
        ServerOptions options, ILoggerFactory loggers, ISolStore store, string galaxyName, GalaxyModel galaxy, AssetCatalog assets,
        TokenService tokens, PlayerDirectory players, ServerMetrics metrics)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sol" });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.Http);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        });
        var app = builder.Build();
        app.Urls.Clear();

        AuthEndpoints.Map(app, store, tokens, players, new LoginThrottle(TimeProvider.System));
        AssetEndpoints.Map(app, assets);
        GalaxyEndpoints.Map(app, galaxyName, galaxy);
        app.MapGet("/healthz", () => Results.Json(new { status = "ok", galaxy = galaxyName, connections = metrics.ConnectionsOpen }));
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        return app;
    }
}
