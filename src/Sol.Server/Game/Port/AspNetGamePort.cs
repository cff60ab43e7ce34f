using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sol.Core.Protocol;
using Sol.Server.Hosting;

namespace Sol.Server.Game.Port;

/// <summary>
/// The game port on ASP.NET Core's WebSockets (Kestrel). The handshake is checked in full before <c>101</c>: path
/// <c>/ws</c> (else 404), a WebSocket upgrade (else 426), an allowed Origin (else 403), a supported subprotocol
/// (else 400 naming the supported ones), room under the connection limit (else 503), and the game's token check
/// (else 401).
/// </summary>
public sealed class AspNetGamePort : IGamePort
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<long, AspNetGameConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _nextId;
    private long _refusedForRoom;

    private AspNetGamePort(WebApplication app)
    {
        _app = app;
    }

    public IPEndPoint Endpoint { get; private set; } = null!;

    public string Description => "ASP.NET Core WebSockets";

    public int Connections => _connections.Count;

    /// <summary>Upgrades refused with 503 at <c>--max-connections</c> (Kestrel's own pending-connection limit is not
    /// counted: it closes those sockets itself).</summary>
    public long RefusedForRoom => Interlocked.Read(ref _refusedForRoom);

    public static async Task<AspNetGamePort> StartAsync(ServerOptions options, IGameHandler handler, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sol-game" });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Game);
            k.AddServerHeader = false;
            k.Limits.MaxRequestHeadersTotalSize = 8 * 1024;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            // As the open-file limit allows (FileBudget): Kestrel counts a connection here until it is upgraded. The
            // upgraded ones are capped by the 503 below, not by Kestrel's own limit, which would answer a race at the cap
            // with a 500 (helper-55).
            k.Limits.MaxConcurrentConnections = options.MaxPendingHandshakes;
        });
        var app = builder.Build();
        var port = new AspNetGamePort(app);
        var log = loggers.CreateLogger("sol.game");
        var origins = options.AllowedOrigins.Count == 0 ? null : new HashSet<string>(options.AllowedOrigins, StringComparer.OrdinalIgnoreCase);

        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.Headers.Upgrade = "websocket";
                await Refuse(context, StatusCodes.Status426UpgradeRequired, "this endpoint speaks WebSocket only").ConfigureAwait(false);
                return;
            }
            var origin = context.Request.Headers.Origin.ToString();
            if (origins is not null && origin.Length > 0 && !origins.Contains(origin))
            {
                await Refuse(context, StatusCodes.Status403Forbidden, $"origin '{origin}' is not allowed").ConfigureAwait(false);
                return;
            }
            var protocol = ProtocolVersion.Supported.FirstOrDefault(v => context.WebSockets.WebSocketRequestedProtocols.Contains(v));
            if (protocol is null)
            {
                await Refuse(context, StatusCodes.Status400BadRequest, $"no supported subprotocol offered; this server speaks {string.Join(", ", ProtocolVersion.Supported)}").ConfigureAwait(false);
                return;
            }
            if (port._connections.Count >= options.MaxConnections)
            {
                Interlocked.Increment(ref port._refusedForRoom);
                await Refuse(context, StatusCodes.Status503ServiceUnavailable, "the server is full").ConfigureAwait(false);
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : context.Request.Query["access_token"].ToString();
            var resume = context.Request.Query["client_id"].ToString();
            var verdict = await handler.AuthenticateAsync(token, resume.Length > 0 ? resume : null).ConfigureAwait(false);
            if (verdict.Identity is null)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Refuse(context, verdict.Status, verdict.Reason ?? "unauthorized").ConfigureAwait(false);
                return;
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = protocol }).ConfigureAwait(false);
            var id = Interlocked.Increment(ref port._nextId);
            using var connection = new AspNetGameConnection(id, socket, verdict.Identity, protocol, handler, Wire.ClientMessageReader.MaxMessageSize, log);
            port._connections[id] = connection;
            try
            {
                await connection.RunAsync(port._stopping.Token).ConfigureAwait(false);
            }
            finally
            {
                port._connections.TryRemove(id, out _);
            }
        });
        app.MapFallback(context => Refuse(context, StatusCodes.Status404NotFound, "the game socket is at /ws"));

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (ServerStartException.CannotListen(e) is { } why)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new ServerStartException($"cannot listen for the game on {options.Game}: {why}", e);
        }
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        port.Endpoint = new IPEndPoint(IPAddress.Parse(address.Host.Trim('[', ']')), address.Port);
        return port;
    }

    public SharedMessage Share(ReadOnlySpan<byte> payload) => PooledSharedMessage.Rent(payload);

    public async Task StopAsync(TimeSpan timeout)
    {
        foreach (var connection in _connections.Values)
        {
            connection.Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
        }
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (!_connections.IsEmpty && !cancel.IsCancellationRequested)
            {
                await Task.Delay(10, cancel.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Clients that did not answer the close in time are cut off below.
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        using var stop = new CancellationTokenSource(timeout);
        await _app.StopAsync(stop.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static Task Refuse(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason + "\n");
    }
}
