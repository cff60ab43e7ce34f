using System.Net.WebSockets;
using Sol.Testing;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>The runtime's <see cref="ClientWebSocket"/> (a client nobody here wrote) against the server, over both socket kinds.</summary>
public sealed class ClientWebSocketInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    public static TheoryData<SocketTransportKind, WebSocketMessageType, int> Messages()
    {
        var data = new TheoryData<SocketTransportKind, WebSocketMessageType, int>();
        foreach (var kind in new[] { SocketTransportKind.Pipelines, SocketTransportKind.Kestrel, SocketTransportKind.Raw })
        {
            foreach (var type in new[] { WebSocketMessageType.Text, WebSocketMessageType.Binary })
            {
                foreach (var size in new[] { 0, 125, 126, 64 * 1024, 1 << 20 })
                {
                    data.Add(kind, type, size);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public async Task EchoesAMessageOfEachSizeAndKind(SocketTransportKind sockets, WebSocketMessageType type, int size)
    {
        var handler = new RecordingHandler();
        var pool = new CountingArrayPool();
        await using (var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets, BufferPool = pool }, handler))
        {
            using var client = await ConnectAsync(server);
            var payload = Payload(type, size);

            await client.SendAsync(payload, type, endOfMessage: true, CancellationToken.None);
            var (echoType, echo) = await ReceiveMessageAsync(client);

            Assert.Equal(type, echoType);
            Assert.Equal(payload, echo);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            Assert.Equal(WebSocketState.Closed, client.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        }
        pool.AssertNoLeaks(); // assembly buffers (large messages arrive in pieces) and queued sends all went back
    }

    [Fact]
    public async Task OnTheRawKindMessagesReachTheHandlerOnAnIoLoopButTheUpgradeAndOpenHooksDoNot()
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = SocketTransportKind.Raw }, handler);
        using var client = await ConnectAsync(server);
        await client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await ReceiveMessageAsync(client);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        // The hooks may wait on a database: never on a loop that serves other sockets. Messages are read on the loop
        // (where there are loops: Linux on x64 or Arm64, unless SOL_IO_THREADS=0).
        Assert.Equal([("upgrade", false), ("open", false), ("message", Sockets.IoLoop.IsSupported)], handler.Threads.ToArray());
        Assert.Equal(0, Sockets.IoLoop.Swallowed); // no exception reached a loop, in this test or any before it
    }

    [Fact]
    public async Task OnTheRawKindAnUpgradeRequestArrivingByteByByteStillReachesTheUpgradeHookOffTheLoop()
    {
        // A request that trickles in completes while the handshake is already waiting for input, so its last bytes
        // are read (and the handshake goes on) on the I/O loop: the hook must still be called off it.
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = SocketTransportKind.Raw }, handler);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var client = await Support.RawClient.ConnectAsync(server.Endpoint);
            foreach (var b in System.Text.Encoding.ASCII.GetBytes(Support.RawClient.Upgrade()))
            {
                await client.WriteAsync([b]);
            }
            Assert.Equal(101, Support.RawClient.StatusOf(await client.ReadHeadAsync()));
        }

        Assert.Equal(3, handler.Threads.Count(t => t.Hook == "upgrade"));
        Assert.DoesNotContain(("upgrade", true), handler.Threads);
        Assert.DoesNotContain(("open", true), handler.Threads);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task JoinsFragmentsSentWithEndOfMessageFalse(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await StartAsync(sockets, handler);
        using var client = await ConnectAsync(server);
        var text = "héllo wörld — fragmented 🚀 text"u8.ToArray();

        // Split inside a multi-byte character on purpose.
        await client.SendAsync(text.AsMemory(0, 2), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await client.SendAsync(text.AsMemory(2, 20), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
        await client.SendAsync(text.AsMemory(22), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var (type, echo) = await ReceiveMessageAsync(client);

        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal(text, echo);
        Assert.Single(handler.Messages);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AnswersTheClientsKeepAlivePings(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await StartAsync(sockets, handler);
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.FromMilliseconds(50);
        client.Options.KeepAliveTimeout = TimeSpan.FromSeconds(1); // the client aborts when no pong comes back
        await client.ConnectAsync(Uri(server), CancellationToken.None);

        // The client reads pongs only inside a pending receive (as a client that keeps one open does). One waits while
        // 1.5 s pass, more than interval + timeout: a server that never answered the first ping would have had the
        // client abort by then ("didn't receive a Pong frame"). Then a message still comes back through that receive.
        var echo = ReceiveMessageAsync(client);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the time passing is what is tested
        Assert.False(echo.IsCompleted, echo.Exception?.ToString());
        await client.SendAsync("x"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var (_, bytes) = await echo.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("x"u8.ToArray(), bytes);
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task ClosesCleanlyWhenTheClientCloses(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await StartAsync(sockets, handler);
        using var client = await ConnectAsync(server);

        await client.CloseAsync((WebSocketCloseStatus)4001, "done", CancellationToken.None);

        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal((WebSocketCloseStatus)4001, client.CloseStatus);
        await Eventually.TrueAsync(() => !handler.Closed.IsEmpty, s_timeout, "OnClosedAsync");
        Assert.Equal((WebSocketCloseStatus)4001, Assert.Single(handler.Closed).Status);
        await Eventually.TrueAsync(() => server.Connections == 0, s_timeout, "no connections");
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task ClosesCleanlyWhenTheServerCloses(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await StartAsync(sockets, handler);
        using var client = await ConnectAsync(server);
        await Eventually.TrueAsync(() => !handler.Opened.IsEmpty, s_timeout, "OnOpenAsync");

        Assert.Single(handler.Opened).Close(WebSocketCloseStatus.NormalClosure, "server says bye");
        var buffer = new byte[16];
        var result = await client.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, result.CloseStatus);
        Assert.Equal("server says bye", result.CloseStatusDescription);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        await Eventually.TrueAsync(() => !handler.Closed.IsEmpty, s_timeout, "OnClosedAsync");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, Assert.Single(handler.Closed).Status);
        Assert.Equal(WebSocketState.Closed, client.State);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task NegotiatesTheFirstSubprotocolOfTheServersListThatTheClientOffered(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(
            new WebSocketServerOptions { Sockets = sockets, SubProtocols = ["sol.v2", "sol.v1"] }, handler);
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("sol.v1");
        client.Options.AddSubProtocol("sol.v2");
        await client.ConnectAsync(Uri(server), CancellationToken.None);

        Assert.Equal("sol.v2", client.SubProtocol);
        await Eventually.TrueAsync(() => !handler.Opened.IsEmpty, s_timeout, "OnOpenAsync");
        Assert.Equal("sol.v2", Assert.Single(handler.Opened).SubProtocol);
        Assert.Equal("state", handler.Opened.Single().State);

        using var refused = new ClientWebSocket();
        refused.Options.AddSubProtocol("other");
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(Uri(server), CancellationToken.None));
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task StopAsyncClosesEveryClientWithGoingAway(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        var server = await StartAsync(sockets, handler);
        using var first = await ConnectAsync(server);
        using var second = await ConnectAsync(server);
        await Eventually.TrueAsync(() => server.Connections == 2, s_timeout, "two connections");

        // The clients answer the close frame as soon as they read it.
        var answers = new[] { first, second }.Select(async c =>
        {
            var result = await c.ReceiveAsync(new byte[16], CancellationToken.None);
            await c.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return result.CloseStatus;
        }).ToArray();
        await server.StopAsync(TimeSpan.FromSeconds(10));

        Assert.All(await Task.WhenAll(answers), status => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status));
        Assert.Equal(2, handler.Closed.Count);
        Assert.Equal(0, server.Connections);
    }

    internal static Task<WebSocketServer> StartAsync(SocketTransportKind sockets, IWebSocketHandler handler) =>
        WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets }, handler);

    internal static Uri Uri(WebSocketServer server, string path = "/ws") =>
        new($"ws://{server.Endpoint.Address}:{server.Endpoint.Port}{path}");

    internal static async Task<ClientWebSocket> ConnectAsync(WebSocketServer server)
    {
        var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(s_timeout);
        await client.ConnectAsync(Uri(server), timeout.Token);
        return client;
    }

    internal static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocket client)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    private static byte[] Payload(WebSocketMessageType type, int size)
    {
        if (type == WebSocketMessageType.Binary)
        {
            return ClientFrames.Pattern(size);
        }
        var text = new byte[size];
        for (var i = 0; i < size; i++)
        {
            text[i] = (byte)('a' + i % 26);
        }
        return text;
    }
}
