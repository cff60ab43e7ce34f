using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sol.Bench.Transport;

/// <summary>
/// The baseline: a minimal ASP.NET Core app (Kestrel, <c>UseWebSockets</c>) written the way such an app is written.
/// Each connection has a receive loop with its own 4 KiB buffer; echo sends back what it received (fragments as
/// fragments); a broadcast walks the subscriber array and awaits each subscriber's own <c>SendAsync</c> in turn
/// (only the publisher's loop sends to subscribers, so sends on one socket never overlap).
/// </summary>
public sealed class AspNetBenchServer : IBenchServer
{
    private readonly WebApplication _app;
    private readonly CopyOnWriteList<WebSocket> _subscribers = new();
    private int _connections;

    private AspNetBenchServer(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public int Connections => Volatile.Read(ref _connections);

    public static async Task<IBenchServer> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port);
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Limits.MaxConcurrentUpgradedConnections = null;
        });
        var app = builder.Build();
        var server = new AspNetBenchServer(app);
        // No keep-alive pings: the harness's idle clients do not answer them, and Sol's bench server does not ping either.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Map("/ws", server.AcceptAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    private async Task AcceptAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }
        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(IBenchServer.SubProtocol)
            ? IBenchServer.SubProtocol
            : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(subProtocol);
        Interlocked.Increment(ref _connections);
        try
        {
            switch (context.Request.Query["role"].ToString())
            {
                case "sub":
                    _subscribers.Add(socket);
                    try
                    {
                        await EchoAsync(socket, echo: false, context.RequestAborted);
                    }
                    finally
                    {
                        _subscribers.Remove(socket);
                    }
                    break;
                case "pub":
                    await PublishAsync(socket, context.RequestAborted);
                    break;
                default:
                    await EchoAsync(socket, echo: true, context.RequestAborted);
                    break;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away.
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private static async Task EchoAsync(WebSocket socket, bool echo, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure,
                    socket.CloseStatusDescription, cancellationToken);
                return;
            }
            if (echo)
            {
                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage,
                    cancellationToken);
            }
        }
    }

    private async Task PublishAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            // Broadcast messages are small (the harness sends at most 2 KiB): they fit the buffer.
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                length += result.Count;
            }
            while (!result.EndOfMessage && length < buffer.Length);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                return;
            }
            var message = buffer.AsMemory(0, length);
            foreach (var subscriber in _subscribers.Items)
            {
                try
                {
                    await subscriber.SendAsync(message, result.MessageType, endOfMessage: true, cancellationToken);
                }
                catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException)
                {
                    // That subscriber is gone; its own loop removes it.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(deadline.Token);
        await _app.DisposeAsync();
    }
}
