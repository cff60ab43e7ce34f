using System.Net.WebSockets;
using Sol.Testing;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>A raw TCP client sends bad bytes after a good handshake; the server answers with the right close code and hangs up.</summary>
public sealed class RawCloseCodeTests
{
    public static TheoryData<SocketTransportKind, string, byte[], int> BadFrames()
    {
        var cases = new (string, byte[], int)[]
        {
            ("unmasked frame", ClientFrames.Frame(0x2, [1, 2], masked: false), 1002),
            ("reserved bit", ClientFrames.Frame(0x2, [1], rsv: 4), 1002),
            ("unknown opcode", ClientFrames.Frame(0x5, [1]), 1002),
            ("long ping", ClientFrames.Frame(0x9, new byte[126]), 1002),
            ("bad close code", ClientFrames.Close(1005), 1002),
            ("one-byte close", ClientFrames.Frame(0x8, [1]), 1002),
            ("invalid UTF-8 text", ClientFrames.Frame(0x1, [0xC3, 0x28]), 1007),
            ("too big", ClientFrames.Frame(0x2, new byte[2000]), 1009),
        };
        var data = new TheoryData<SocketTransportKind, string, byte[], int>();
        foreach (var kind in new[] { SocketTransportKind.Pipelines, SocketTransportKind.Kestrel, SocketTransportKind.Raw })
        {
            foreach (var (what, bytes, code) in cases)
            {
                data.Add(kind, what, bytes, code);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task ABadFrameIsAnsweredWithItsCloseCode(SocketTransportKind sockets, string what, byte[] bytes, int code)
    {
        var pool = new CountingArrayPool();
        var handler = new RecordingHandler();
        await using (var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            MaxMessageSize = 1024,
            BufferPool = pool,
        }, handler))
        {
            using var client = await RawClient.ConnectAsync(server.Endpoint);
            await client.WriteAsync(RawClient.Upgrade());
            Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));

            await client.WriteAsync(ClientFrames.Concat(ClientFrames.Binary([7]), bytes));
            var frames = ServerFrames.Parse(await client.ReadToEndAsync());

            Assert.Equal(2, frames.Count);
            Assert.Equal(0x2, frames[0].Opcode); // the good message was echoed first
            Assert.Equal([7], frames[0].Payload);
            Assert.Equal(0x8, frames[1].Opcode);
            Assert.True(code == ServerFrames.CloseCode(frames[1].Payload), what);
            await Eventually.TrueAsync(() => handler.Closed.Count == 1, TimeSpan.FromSeconds(10), "closed");
            Assert.Equal((WebSocketCloseStatus)code, handler.Closed.Single().Status);
        }
        pool.AssertNoLeaks();
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AClientCloseIsEchoedWithItsCodeAndAPingIsAnsweredWithItsPayload(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);
        await client.WriteAsync(RawClient.Upgrade());
        Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));

        await client.WriteAsync(ClientFrames.Concat(ClientFrames.Frame(0x9, "are you there"u8), ClientFrames.Close(3001, "later")));
        var frames = ServerFrames.Parse(await client.ReadToEndAsync());

        Assert.Equal(2, frames.Count);
        Assert.Equal(0xA, frames[0].Opcode);
        Assert.Equal("are you there"u8.ToArray(), frames[0].Payload);
        Assert.Equal(0x8, frames[1].Opcode);
        Assert.Equal(3001, ServerFrames.CloseCode(frames[1].Payload));
        await Eventually.TrueAsync(() => handler.Closed.Count == 1, TimeSpan.FromSeconds(10), "closed");
        Assert.Equal((WebSocketCloseStatus)3001, handler.Closed.Single().Status);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AHandlerHookThatThrowsEndsOnlyItsConnectionWith500Or1011(SocketTransportKind sockets)
    {
        var pool = new CountingArrayPool();
        var handler = new RecordingHandler
        {
            Upgrade = request => request.Query("throw") == "upgrade"
                ? throw new InvalidOperationException("a bug in OnUpgradeAsync")
                : UpgradeVerdict.Accept(request.Query("throw")),
            Open = connection =>
            {
                if ((string?)connection.State == "open")
                {
                    throw new InvalidOperationException("a bug in OnOpenAsync");
                }
            },
        };
        await using (var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets, BufferPool = pool }, handler))
        {
            using (var refused = await RawClient.ConnectAsync(server.Endpoint))
            {
                await refused.WriteAsync(RawClient.Upgrade("/ws?throw=upgrade"));
                Assert.Equal(500, RawClient.StatusOf(await refused.ReadHeadAsync()));
                await refused.ReadToEndAsync(); // and the server hangs up
            }
            using (var closed = await RawClient.ConnectAsync(server.Endpoint))
            {
                await closed.WriteAsync(RawClient.Upgrade("/ws?throw=open"));
                Assert.Equal(101, RawClient.StatusOf(await closed.ReadHeadAsync()));
                var frames = ServerFrames.Parse(await closed.ReadToEndAsync()); // the client never answers the close
                Assert.Equal(0x8, Assert.Single(frames).Opcode);
                Assert.Equal(1011, ServerFrames.CloseCode(frames[0].Payload));
            }
            await Eventually.TrueAsync(() => handler.Closed.Count == 1, TimeSpan.FromSeconds(10), "closed");
            Assert.Equal(WebSocketCloseStatus.InternalServerError, handler.Closed.Single().Status);

            // The server serves on.
            using var client = await RawClient.ConnectAsync(server.Endpoint);
            await client.WriteAsync(RawClient.Upgrade());
            Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
            await client.WriteAsync(ClientFrames.Concat(ClientFrames.Binary([7]), ClientFrames.Close(1000)));
            var echoed = ServerFrames.Parse(await client.ReadToEndAsync());
            Assert.Equal([7], echoed[0].Payload);
            Assert.Equal(1000, ServerFrames.CloseCode(echoed[^1].Payload));
        }
        pool.AssertNoLeaks();
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AnIdleClientIsPingedThenClosedWithGoingAway(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            IdleTimeout = TimeSpan.FromMilliseconds(400),
            CloseTimeout = TimeSpan.FromMilliseconds(500),
        }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);
        await client.WriteAsync(RawClient.Upgrade());
        Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));

        var frames = ServerFrames.Parse(await client.ReadToEndAsync()); // never answers anything

        Assert.Equal(0x9, frames[0].Opcode);
        Assert.Equal(0x8, frames[^1].Opcode);
        Assert.Equal(1001, ServerFrames.CloseCode(frames[^1].Payload));
        await Eventually.TrueAsync(() => handler.Closed.Count == 1, TimeSpan.FromSeconds(10), "closed");
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AnIdleClientThatAnswersThePingsStaysOpen(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            IdleTimeout = TimeSpan.FromSeconds(1), // a ping after 0.5 s of silence, a close 0.5 s after an unanswered one
            CloseTimeout = TimeSpan.FromSeconds(1),
        }, handler);
        using var client = await RawClient.ConnectAsync(server.Endpoint);
        await client.WriteAsync(RawClient.Upgrade());
        Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));

        // Sends nothing but pongs: three answered pings take at least 1.5 s, longer than an unanswered ping lasts.
        for (var ping = 0; ping < 3; ping++)
        {
            var (opcode, payload) = await client.ReadFrameAsync();
            Assert.Equal(0x9, opcode); // a ping, not a close
            await client.WriteAsync(ClientFrames.Frame(0xA, payload));
        }

        Assert.Empty(handler.Closed);
        await client.WriteAsync(ClientFrames.Close(1000));
        var frames = ServerFrames.Parse(await client.ReadToEndAsync());
        Assert.Equal(1000, ServerFrames.CloseCode(frames.Last(f => f.Opcode == 0x8).Payload));
        await Eventually.TrueAsync(() => handler.Closed.Count == 1, TimeSpan.FromSeconds(10), "closed");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, handler.Closed.Single().Status);
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AHandlerThatThrowsClosesItsConnectionWith1011AndTheServerKeepsServing(SocketTransportKind sockets)
    {
        var handler = new ThrowingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions
        {
            Sockets = sockets,
            CloseTimeout = TimeSpan.FromMilliseconds(300), // this client never answers the server's close frame
        }, handler);
        for (var i = 0; i < 2; i++)
        {
            using var client = await RawClient.ConnectAsync(server.Endpoint);
            await client.WriteAsync(RawClient.Upgrade());
            Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
            await client.WriteAsync(ClientFrames.Binary([1]));
            var close = ServerFrames.Parse(await client.ReadToEndAsync()).Single();
            Assert.Equal(1011, ServerFrames.CloseCode(close.Payload));
        }
    }

    private sealed class ThrowingHandler : IWebSocketHandler
    {
        public ValueTask<UpgradeVerdict> OnUpgradeAsync(UpgradeRequest request) => ValueTask.FromResult(UpgradeVerdict.Accept());

        public ValueTask OnOpenAsync(WebSocketConnection connection) => ValueTask.CompletedTask;

        public void OnMessage(WebSocketConnection connection, WebSocketMessageKind kind, in System.Buffers.ReadOnlySequence<byte> payload) =>
            throw new InvalidOperationException("handler bug");

        public ValueTask OnClosedAsync(WebSocketConnection connection, WebSocketCloseStatus status) => ValueTask.CompletedTask;
    }
}
