using System.Net.WebSockets;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>The server timer's idle rule, driven by hand: a ping after half the idle timeout, the close only after it.</summary>
public sealed class IdleTimerTests
{
    [Fact]
    public async Task ATimerThatRunsLatePingsFirstAndClosesOnlyOnceThePingWentUnansweredForHalfTheTimeout()
    {
        var pool = new CountingArrayPool();
        var transport = new PipeTransport();
        var (connection, run) = SendQueueTests.Open(transport, pool, out _); // IdleTimeout 30 s
        var start = Environment.TickCount64;

        connection.OnTimer(start + 60_000); // the first check comes after the whole timeout (a stalled timer)
        var ping = Assert.Single(await SendQueueTests.ReadFramesAsync(transport, 1));
        Assert.Equal(0x9, ping.Opcode);
        Assert.False(connection.CloseQueued);

        connection.OnTimer(start + 70_000); // the ping has had 10 s of the 15 s it is owed
        Assert.False(connection.CloseQueued);

        connection.OnTimer(start + 75_000);
        Assert.True(connection.CloseQueued);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, connection.CloseSentStatus);
        var close = Assert.Single(await SendQueueTests.ReadFramesAsync(transport, 1));
        Assert.Equal(1001, ServerFrames.CloseCode(close.Payload));
        await SendQueueTests.CloseAsync(connection, transport, run, answer: true);
        pool.AssertNoLeaks();
    }
}
