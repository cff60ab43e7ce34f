using System.Text;
using Microsoft.Extensions.Logging;
using Sol.Testing;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Handshake;

/// <summary>Real sockets: each refused upgrade is a real HTTP/1.1 response (text/plain, Connection: close), then the server closes.</summary>
public sealed class UpgradeResponseTests
{
    public static TheoryData<SocketTransportKind, string, string, int> Refusals()
    {
        var cases = new (string What, string Request, int Status)[]
        {
            ("garbage", "HELLO\r\n\r\n", 400),
            ("POST", RawClient.Upgrade().Replace("GET", "POST", StringComparison.Ordinal), 405),
            ("HTTP/1.0", RawClient.Upgrade().Replace("HTTP/1.1", "HTTP/1.0", StringComparison.Ordinal), 505),
            ("no Host", RawClient.Upgrade().Replace("Host: localhost\r\n", "", StringComparison.Ordinal), 400),
            ("other path", RawClient.Upgrade("/other"), 404),
            ("no Upgrade", RawClient.Upgrade().Replace("Upgrade: websocket\r\n", "", StringComparison.Ordinal), 426),
            ("Upgrade: h2c", RawClient.Upgrade().Replace("Upgrade: websocket", "Upgrade: h2c", StringComparison.Ordinal), 400),
            ("no Connection: upgrade", RawClient.Upgrade().Replace("keep-alive, Upgrade", "keep-alive", StringComparison.Ordinal), 400),
            ("version 8", RawClient.Upgrade(version: "8"), 426),
            ("no key", RawClient.Upgrade(key: ""), 400),
            ("short key", RawClient.Upgrade(key: "c2hvcnQ="), 400),
            ("not base64", RawClient.Upgrade(key: "!!!!!!!!!!!!!!!!!!!!!!=="), 400),
            ("header too large", RawClient.Upgrade(extraHeaders: "X-Big: " + new string('a', 9000) + "\r\n"), 431),
            ("bad origin", RawClient.Upgrade(extraHeaders: "Origin: http://evil.example\r\n"), 403),
            ("handler refuses", RawClient.Upgrade(extraHeaders: "Authorization: Bearer wrong\r\n"), 401),
            ("handler refuses the query token", RawClient.Upgrade("/ws?access_token=wrong"), 401),
            // helper-54: these three were upgraded (two Host headers), or left to the handshake timeout (bare LF).
            ("two Host headers", RawClient.Upgrade(extraHeaders: "Host: other.example\r\n"), 400),
            ("lines ended by LF alone", RawClient.Upgrade().Replace("\r\n", "\n", StringComparison.Ordinal), 400),
            ("one header line ended by LF alone", RawClient.Upgrade().Replace("Upgrade: websocket\r\n", "Upgrade: websocket\n", StringComparison.Ordinal), 400),
        };
        var data = new TheoryData<SocketTransportKind, string, string, int>();
        foreach (var kind in new[] { SocketTransportKind.Pipelines, SocketTransportKind.Kestrel, SocketTransportKind.Raw })
        {
            foreach (var (what, request, status) in cases)
            {
                data.Add(kind, what, request, status);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task ARefusedUpgradeIsAnsweredWithItsStatusAndClosed(SocketTransportKind sockets, string what, string request, int status)
    {
        var handler = TokenHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            AllowOrigin = origin => origin == "http://good.example",
        }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);

        await client.WriteAsync(request);
        var response = Encoding.UTF8.GetString(await client.ReadToEndAsync());

        Assert.True(RawClient.StatusOf(response) == status, $"{what}: {response}");
        Assert.Contains("Connection: close\r\n", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/plain", response, StringComparison.Ordinal);
        if (status == 426)
        {
            Assert.Contains("Sec-WebSocket-Version: 13\r\n", response, StringComparison.Ordinal);
        }
        Assert.Empty(handler.Opened);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AnAcceptedUpgradeAnswers101WithTheAcceptKeyAndTheTokenReachesTheHandler(SocketTransportKind sockets)
    {
        var handler = TokenHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            AllowOrigin = origin => origin == "http://good.example",
        }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);

        await client.WriteAsync(RawClient.Upgrade("/ws?x=%C3%A9", "Origin: http://good.example\r\nAuthorization: Bearer good\r\n"));
        var head = await client.ReadHeadAsync();

        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", head, StringComparison.Ordinal);
        Assert.Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", head, StringComparison.Ordinal);
        var request = Assert.Single(handler.Upgrades);
        Assert.Equal("good", request.Token);
        Assert.Equal("/ws", request.Path);
        Assert.Equal("é", request.Query("x"));
        Assert.Equal("http://good.example", request.Origin);
        Assert.Equal("localhost", request.Header("HOST"));
        Assert.NotNull(request.RemoteEndPoint);
        await Eventually.TrueAsync(() => handler.Opened.Count == 1, TimeSpan.FromSeconds(10), "opened");
        Assert.Equal("good-user", handler.Opened.Single().State);
    }

    [Theory]
    [InlineData("Upgrade: websocket, h2c")]
    [InlineData("Upgrade: h2c, WebSocket")]
    public async Task AnUpgradeListThatNamesWebsocketIsAccepted(string upgrade)
    {
        // The header is a list of protocols (RFC 9110 §7.8); RFC 6455 asks that it hold websocket (helper-54: 400 before).
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = SocketTransportKind.Raw }, new RecordingHandler());
        using var client = await RawClient.ConnectAsync(server.Endpoint);

        await client.WriteAsync(RawClient.Upgrade().Replace("Upgrade: websocket", upgrade, StringComparison.Ordinal));

        Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
    }

    [Theory]
    [InlineData("/ws?access_token=good", "", "good")]                                 // a browser cannot set headers
    [InlineData("/ws?a=1&access_token=go%6Fd", "", "good")]                          // percent-decoded, not first
    [InlineData("/ws?access_token=query", "Authorization: Bearer good\r\n", "good")] // the header wins
    public async Task TheTokenComesFromTheBearerHeaderElseTheAccessTokenQuery(string path, string headers, string token)
    {
        var handler = TokenHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = SocketTransportKind.Raw }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);

        await client.WriteAsync(RawClient.Upgrade(path, headers));

        Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
        Assert.Equal(token, Assert.Single(handler.Upgrades).Token);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AConnectionOverTheLimitIsAnswered503(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        var log = new RecordingLoggerFactory();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets, MaxConnections = 1 }, handler, log);
        using var first = await RawClient.ConnectAsync(server.Endpoint);
        await first.WriteAsync(RawClient.Upgrade());
        Assert.Equal(101, RawClient.StatusOf(await first.ReadHeadAsync()));

        for (var i = 0; i < 3; i++)
        {
            using var over = await RawClient.ConnectAsync(server.Endpoint);
            await over.WriteAsync(RawClient.Upgrade());
            Assert.Equal(503, RawClient.StatusOf(Encoding.ASCII.GetString(await over.ReadToEndAsync())));
        }
        Assert.Equal(1, server.Connections);
        // Counted, and told to the operator once for the burst (each was a debug line only before).
        Assert.Equal(3, server.RefusedForRoom);
        var warning = Assert.Single(log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal("Refusing connections with 503: 1 are open, the limit; 1 refused for want of room since the last such line (one at most every 10 s)", warning.Message);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task ASocketOverThePendingHandshakeLimitIsClosedAtOnceAndTheSlotsComeBack(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            MaxPendingHandshakes = 2,
            HandshakeTimeout = TimeSpan.FromMinutes(1), // longer than the test: only the limit can close the third
        }, handler);
        using var silent1 = await RawClient.ConnectAsync(server.Endpoint);
        using var silent2 = await RawClient.ConnectAsync(server.Endpoint);
        await Eventually.TrueAsync(() => server.PendingHandshakes == 2, TimeSpan.FromSeconds(10), "two handshakes pending");

        // Closed without a word, long before the handshake timeout: the reset can even beat the connect's completion.
        try
        {
            using var third = await RawClient.ConnectAsync(server.Endpoint);
            Assert.Empty(await third.ReadToEndAsync());
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
        }
        await Eventually.TrueAsync(() => server.RefusedForRoom == 1, TimeSpan.FromSeconds(10), "the third to be counted as refused");
        await silent1.WriteAsync(RawClient.Upgrade());
        Assert.Equal(101, RawClient.StatusOf(await silent1.ReadHeadAsync()));
        await Eventually.TrueAsync(() => server.PendingHandshakes == 1, TimeSpan.FromSeconds(10), "a slot came back");
        using var fourth = await RawClient.ConnectAsync(server.Endpoint);
        await fourth.WriteAsync(RawClient.Upgrade());

        Assert.Equal(101, RawClient.StatusOf(await fourth.ReadHeadAsync()));
    }

    [Fact]
    public async Task ZeroPendingHandshakesIsRefusedAtStart()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            WebSocketServer.StartAsync(new WebSocketServerOptions { MaxPendingHandshakes = 0 }, new RecordingHandler()));
        Assert.Contains("MaxPendingHandshakes", error.Message);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task ASlowHandshakeIsCutOffAtTheTimeout(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            HandshakeTimeout = TimeSpan.FromMilliseconds(300),
        }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);
        var started = System.Diagnostics.Stopwatch.StartNew();

        await client.WriteAsync("GET /ws HTTP/1.1\r\nHost: a\r\n"); // and never the rest
        var rest = await client.ReadToEndAsync();

        Assert.Empty(rest);
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
        Assert.Empty(handler.Upgrades);
    }

    [Fact]
    public async Task StartingOnAPortInUseFailsWithAClearMessage()
    {
        await using var first = await WebSocketServer.StartAsync(new WebSocketServerOptions(), new RecordingHandler());
        foreach (var kind in new[] { SocketTransportKind.Pipelines, SocketTransportKind.Kestrel, SocketTransportKind.Raw })
        {
            var error = await Assert.ThrowsAsync<IOException>(() => WebSocketServer.StartAsync(
                new WebSocketServerOptions { Endpoint = first.Endpoint, Sockets = kind }, new RecordingHandler()));
            Assert.Contains("already in use", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines, 8 * 1024, 101)]
    [InlineData(SocketTransportKind.Kestrel, 8 * 1024, 101)]
    [InlineData(SocketTransportKind.Raw, 8 * 1024, 101)]
    [InlineData(SocketTransportKind.Raw, (8 * 1024) + 1, 431)]
    public async Task AHeadOfExactlyTheLimitIsAcceptedAndOneByteMoreIsNot(SocketTransportKind sockets, int length, int status)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets }, handler);
        var padding = length - RawClient.Upgrade(extraHeaders: "X-Pad: \r\n").Length;
        var request = RawClient.Upgrade(extraHeaders: "X-Pad: " + new string('p', padding) + "\r\n");
        Assert.Equal(length, Encoding.ASCII.GetByteCount(request)); // the blank line that ends the head included
        using var client = await RawClient.ConnectAsync(server.Endpoint);

        await client.WriteAsync(request);

        Assert.Equal(status, RawClient.StatusOf(await client.ReadHeadAsync()));
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task NoCommonSubprotocolAndAnOutOfRangeHandlerStatusAreRefusedProperly(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler
        {
            Upgrade = request => request.Query("refuse") is { } status ? UpgradeVerdict.Reject(int.Parse(status), "no") : UpgradeVerdict.Accept(),
        };
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            SubProtocols = ["sol.v1"],
        }, handler);

        // Only other subprotocols offered (and none at all): 400, before the handler is asked.
        foreach (var offer in new[] { "Sec-WebSocket-Protocol: chat, superchat\r\n", "" })
        {
            using var client = await RawClient.ConnectAsync(server.Endpoint);
            await client.WriteAsync(RawClient.Upgrade(extraHeaders: offer));
            var response = Encoding.UTF8.GetString(await client.ReadToEndAsync());
            Assert.True(RawClient.StatusOf(response) == 400, response);
            Assert.Contains("Connection: close\r\n", response, StringComparison.Ordinal);
        }
        Assert.Empty(handler.Upgrades);

        // A handler's status that is not an error status (here 200) is answered 403, never passed on as it is.
        using (var client = await RawClient.ConnectAsync(server.Endpoint))
        {
            await client.WriteAsync(RawClient.Upgrade("/ws?refuse=200", "Sec-WebSocket-Protocol: sol.v1\r\n"));
            var response = Encoding.UTF8.GetString(await client.ReadToEndAsync());
            Assert.True(RawClient.StatusOf(response) == 403, response);
        }
        Assert.Empty(handler.Opened);
    }

    private static RecordingHandler TokenHandler() => new()
    {
        Upgrade = request => request.Token == "good" ? UpgradeVerdict.Accept("good-user") : UpgradeVerdict.Reject(401, "bad token"),
    };
}
