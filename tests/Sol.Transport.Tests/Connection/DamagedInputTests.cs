using System.IO.Pipelines;
using System.Net.WebSockets;
using Sol.Transport.Connections;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// Whole connections fed damaged client bytes (fixed seed): each ends once, with a status a server may end with, after
/// echoing whatever complete messages came first, gives every pooled buffer back, and throws nothing inside (an
/// exception caught in a connection would also end it with 1011, so the log is checked for one). Inline pipes and
/// drainers, so a run is quick and deterministic.
/// </summary>
public sealed class DamagedInputTests
{
    [Fact]
    public async Task AConnectionFedDamagedFramesEndsOnceWithAProperStatusAndLeaksNothing()
    {
        var valid = ClientFrames.Conversation();
        var random = new Random(20261130);
        var pool = new CountingArrayPool();
        var inline = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var options = new WebSocketServerOptions { MaxMessageSize = 1024, BufferPool = pool, CloseTimeout = TimeSpan.FromSeconds(5) };
        var statuses = new HashSet<WebSocketCloseStatus>();
        var log = new RecordingLoggerFactory();
        var logger = log.CreateLogger(nameof(DamagedInputTests));
        for (var run = 0; run < 5_000; run++)
        {
            var bytes = Damage.Mutate(valid, random);
            var transport = new PipeTransport(inline, inline, new SendScheduler(maxDrainers: 1, static item => item.Execute()));
            var handler = new RecordingHandler();
            var connection = new WebSocketConnection(transport, null, null, options, pool, logger);
            var running = connection.RunAsync(handler);
            // The client writes the damaged bytes in random pieces, then hangs up (the server's answers are small: no
            // reader needed).
            for (var at = 0; at < bytes.Length;)
            {
                var length = Math.Min(bytes.Length - at, random.Next(1, 300));
                await transport.ClientOutput.WriteAsync(bytes.AsMemory(at, length));
                at += length;
            }
            await transport.ClientOutput.CompleteAsync();
            try
            {
                await running.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                Assert.Fail($"run {run}: the connection did not end");
            }
            var (_, status) = Assert.Single(handler.Closed);
            // Ours (1002, 1007, 1009), the client's own code echoed (any code a close frame may carry), none (1005), or
            // no close handshake at all (1006).
            Assert.True(Sol.Transport.Frames.FrameParser.IsValidCloseCode((int)status) || status is WebSocketCloseStatus.Empty
                || (int)status == 1006, $"run {run}: {status}");
            statuses.Add(status);
            transport.ClientInput.Complete();
        }
        pool.AssertNoLeaks();
        Assert.Empty(log.Entries.Where(e => e.Exception is not null).Select(e => $"{e.Message}: {e.Exception}"));
        Assert.Superset(new HashSet<WebSocketCloseStatus>
        {
            WebSocketCloseStatus.NormalClosure, WebSocketCloseStatus.ProtocolError, WebSocketCloseStatus.InvalidPayloadData,
            WebSocketCloseStatus.MessageTooBig, (WebSocketCloseStatus)1006,
        }, statuses);
    }
}
