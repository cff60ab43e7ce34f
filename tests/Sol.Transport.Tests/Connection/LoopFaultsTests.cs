using Microsoft.Extensions.Logging;
using Sol.Transport.Sockets;
using Sol.Transport.Tests.Support;

namespace Sol.Transport.Tests.Connection;

/// <summary>What an I/O loop does with an exception that reaches it: count it, log it at Error (rate-limited), go on.</summary>
public sealed class LoopFaultsTests
{
    [Fact]
    public void LogsTheFirstInFullThenOneInTenThousandWithTheCount()
    {
        var log = new RecordingLoggerFactory();
        var faults = new LoopFaults { Logger = log.CreateLogger("loop") };
        var bug = new InvalidOperationException("a bug in a socket");

        for (var i = 0; i < LoopFaults.LogEvery; i++)
        {
            faults.Report(bug, "a socket's event");
        }

        Assert.Equal(LoopFaults.LogEvery, faults.Count);
        var entries = log.Entries.ToArray();
        Assert.Equal(LoopFaults.LoggedInFull + 1, entries.Length);
        Assert.All(entries, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.All(entries, e => Assert.Same(bug, e.Exception));
        Assert.Contains("a socket's event", entries[0].Message);
        Assert.Contains("1 so far", entries[0].Message);
        Assert.Contains($"{LoopFaults.LoggedInFull} so far", entries[LoopFaults.LoggedInFull - 1].Message);
        Assert.Contains($"{LoopFaults.LogEvery} so far", entries[^1].Message);
    }

    [Fact]
    public void AFailingLoggerOrNoLoggerStillCountsAndNeverThrows()
    {
        var faults = new LoopFaults();
        faults.Report(new InvalidOperationException(), "a posted item");
        faults.Logger = new ThrowingLogger();
        faults.Report(new InvalidOperationException(), "a posted item");

        Assert.Equal(2, faults.Count);
    }

    [Fact]
    public async Task ARawKindServerGivesTheLoopsItsLoggerUntilItStops()
    {
        var log = new RecordingLoggerFactory();
        var server = await WebSocketServer.StartAsync(new WebSocketServerOptions { Sockets = SocketTransportKind.Raw },
            new RecordingHandler(), log);

        // The loops are per process; no other test here gives a raw-kind server a logger factory, so this one is ours.
        var logger = IoLoop.Faults.Logger;
        Assert.NotNull(logger);
        logger.LogError("probe {Id}", 42);
        Assert.Contains(log.Entries, e => e.Category == "Sol.Transport.IoLoop" && e.Message == "probe 42");

        await server.DisposeAsync();
        Assert.Null(IoLoop.Faults.Logger); // a stopped server's log is not kept alive or written to
    }

    private sealed class ThrowingLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new IOException("the log's disk is full");
    }
}
