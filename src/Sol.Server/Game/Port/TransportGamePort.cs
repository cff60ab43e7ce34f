using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Sol.Core.Protocol;
using Sol.Server.Hosting;
using Sol.Transport;

namespace Sol.Server.Game.Port;

/// <summary>
/// The game port on Sol.Transport, the raw-socket WebSocket server: the transport checks the upgrade (path
/// <c>/ws</c>, version, Origin allow-list, subprotocol, connection limit) and asks the game for the token verdict
/// before <c>101</c>; snapshots are framed once per zone and tick and the same bytes go to every subscriber.
/// </summary>
public sealed class TransportGamePort : IGamePort, IWebSocketHandler
{
    private readonly IGameHandler _game;
    private WebSocketServer _server = null!;

    private TransportGamePort(IGameHandler game)
    {
        _game = game;
    }

    public IPEndPoint Endpoint => _server.Endpoint;

    public int Connections => _server.Connections;

    public long RefusedForRoom => _server.RefusedForRoom;

    public string Description { get; private set; } = "";

    public static async Task<TransportGamePort> StartAsync(ServerOptions options, IGameHandler game, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var origins = options.AllowedOrigins.Count == 0 ? null : new HashSet<string>(options.AllowedOrigins, StringComparer.OrdinalIgnoreCase);
        var port = new TransportGamePort(game);
        port.Description = $"Sol.Transport on {options.GameTransport.ToString().ToLowerInvariant()} sockets";
        if (options.GameTransport == GameTransportKind.Raw)
        {
            WebSocketServer.SetIoThreads(options.IoThreads);
            port.Description += options.IoThreads == 0 ? " (no I/O loops: the runtime's socket engine)"
                : !WebSocketServer.HasIoLoops ? " (the runtime's socket engine: no I/O loops on this system)"
                : !options.IoUring ? $" ({options.IoThreads} I/O loops, one sendmsg per flush: --io-uring false)"
                : WebSocketServer.IoRings > 0 ? $" ({options.IoThreads} I/O loops, sends batched with io_uring)"
                : $" ({options.IoThreads} I/O loops, one sendmsg per flush: io_uring unavailable)";
        }
        var transport = new WebSocketServerOptions
        {
            Endpoint = options.Game,
            Sockets = options.GameTransport switch
            {
                GameTransportKind.Kestrel => SocketTransportKind.Kestrel,
                GameTransportKind.Raw => SocketTransportKind.Raw,
                _ => SocketTransportKind.Pipelines,
            },
            Path = "/ws",
            SubProtocols = ProtocolVersion.Supported,
            MaxConnections = options.MaxConnections,
            MaxPendingHandshakes = options.MaxPendingHandshakes,
            MaxMessageSize = Wire.ClientMessageReader.MaxMessageSize,
            AllowOrigin = origins is null ? null : origins.Contains,
            RingSends = options.IoUring,
        };
        try
        {
            port._server = await WebSocketServer.StartAsync(transport, port, loggers, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (ServerStartException.CannotListen(e) is { } why)
        {
            throw new ServerStartException($"cannot listen for the game on {options.Game}: {why}", e);
        }
        return port;
    }

    public SharedMessage Share(ReadOnlySpan<byte> payload) => TransportSharedMessage.Rent(payload);

    public Task StopAsync(TimeSpan timeout) => _server.StopAsync(timeout);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    async ValueTask<UpgradeVerdict> IWebSocketHandler.OnUpgradeAsync(UpgradeRequest request)
    {
        var resume = request.Query("client_id");
        var verdict = await _game.AuthenticateAsync(request.Token, string.IsNullOrEmpty(resume) ? null : resume).ConfigureAwait(false);
        return verdict.Identity is { } identity
            ? UpgradeVerdict.Accept(identity)
            : UpgradeVerdict.Reject(verdict.Status, verdict.Reason ?? "unauthorized");
    }

    ValueTask IWebSocketHandler.OnOpenAsync(WebSocketConnection connection)
    {
        var game = new TransportGameConnection(connection, (GameIdentity)connection.State!);
        connection.State = game;
        return new ValueTask(_game.OnConnectedAsync(game));
    }

    void IWebSocketHandler.OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
    {
        if (kind == WebSocketMessageKind.Text)
        {
            connection.Close(WebSocketCloseStatus.InvalidMessageType, "the game protocol is binary");
            return;
        }
        _game.OnMessage((TransportGameConnection)connection.State!, payload);
    }

    ValueTask IWebSocketHandler.OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status) =>
        connection.State is TransportGameConnection game ? new ValueTask(_game.OnClosedAsync(game)) : ValueTask.CompletedTask;
}
