using System.Diagnostics;
using System.Net.WebSockets;
using Sol.Testing;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

public sealed class ShutdownTests
{
    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task StopAsyncAbortsClientsThatNeverAnswerTheCloseAfterTheTimeout(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        var pool = new CountingArrayPool();
        var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets, BufferPool = pool }, handler);
        var clients = new List<RawClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = await RawClient.ConnectAsync(server.Endpoint);
            await client.WriteAsync(RawClient.Upgrade());
            Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
            clients.Add(client);
        }
        await Eventually.TrueAsync(() => server.Connections == 3 && handler.Opened.Count == 3, TimeSpan.FromSeconds(10), "three open");
        foreach (var connection in handler.Opened)
        {
            connection.Send(new byte[100]); // a pooled payload copy each, in flight or queued when the stop comes
        }
        var stopwatch = Stopwatch.StartNew();

        // The raw clients never answer. The timeout leaves room for the close frames to go out on a busy machine: with
        // 300 ms the Pipelines kind's send loop (on the thread pool) sometimes had not sent them before the abort
        // (2 of 12 runs with both cores busy).
        await server.StopAsync(TimeSpan.FromSeconds(2));

        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.Connections);
        Assert.Equal(3, handler.Closed.Count);
        Assert.All(handler.Opened, c => Assert.True(c.Completion.IsCompleted));
        foreach (var client in clients)
        {
            var frames = ServerFrames.Parse(await client.ReadToEndAsync());
            Assert.Equal(0x8, frames[^1].Opcode);
            Assert.Equal(1001, ServerFrames.CloseCode(frames[^1].Payload)); // they did get the close frame
            client.Dispose();
        }
        await server.DisposeAsync(); // a second stop is harmless
        pool.AssertNoLeaks(); // every payload copy went back, sent or not
    }

    [Theory]
    [InlineData(SocketTransportKind.Pipelines)]
    [InlineData(SocketTransportKind.Kestrel)]
    [InlineData(SocketTransportKind.Raw)]
    public async Task AClientThatVanishesEndsItsConnectionOnceWithAbnormalClosureAndSendsAfterwardsAreDropped(SocketTransportKind sockets)
    {
        var handler = new RecordingHandler();
        await using var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = sockets }, handler);
        var client = await RawClient.ConnectAsync(server.Endpoint);
        await client.WriteAsync(RawClient.Upgrade());
        Assert.Equal(101, RawClient.StatusOf(await client.ReadHeadAsync()));
        await Eventually.TrueAsync(() => handler.Opened.Count == 1, TimeSpan.FromSeconds(10), "opened");
        var connection = handler.Opened.Single();

        client.Dispose();
        await connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        connection.Send("late"u8);
        using var frame = new SharedFrameHolder();
        connection.Send(frame.Frame);
        connection.SendLatest(frame.Frame, "t"u8);
        connection.Close(WebSocketCloseStatus.NormalClosure);

        Assert.Equal((WebSocketCloseStatus)1006, Assert.Single(handler.Closed).Status);
        Assert.Equal(1, frame.Frame.References); // nothing kept a reference
        Assert.Equal(0, server.Connections);
    }

    private sealed class SharedFrameHolder : IDisposable
    {
        public SharedFrame Frame { get; } = SharedFrame.Create("x"u8);

        public void Dispose() => Frame.Release();
    }
}
