using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Sol.Server.Hosting;

/// <summary>
/// Runs a <see cref="SolServer"/> as a process: console logging at the chosen level, Ctrl+C and SIGTERM stop it
/// gracefully (bounded in time), start-up failures are one line and exit code 1, and so is a stop that could not save
/// every player (the database down at the time).
/// </summary>
public static class ServerHost
{
    public static Task<int> RunAsync(ServerOptions options, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(options, error, started: null, cancellationToken);

    /// <param name="started">Called with the server once it runs (tests).</param>
    internal static async Task<int> RunAsync(ServerOptions options, TextWriter error, Action<SolServer>? started, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(error);
        using var loggers = LoggerFactory.Create(b => b
            .SetMinimumLevel(options.LogLevel)
            .AddFilter("Microsoft", LogLevel.Warning)
            // Start-up failures (a port in use) are reported by us as one line, not as the host's stack trace.
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        SolServer server;
        try
        {
            server = await SolServer.StartAsync(options, loggers, stop.Token).ConfigureAwait(false);
        }
        catch (ServerStartException e)
        {
            await error.WriteLineAsync($"sol: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }

        started?.Invoke(server);
        // Until Ctrl+C or SIGTERM, or the game loop failing (logged where it failed): a world that stands still is not
        // served on; the exit code says so, for a supervisor to start it again.
        await Task.WhenAny(Task.Delay(Timeout.Infinite, stop.Token), server.GameFailed).ConfigureAwait(false);
        var failed = server.GameFailed.IsCompleted;
        var log = loggers.CreateLogger("sol");
        log.LogInformation("stopping{Why}", !failed ? "" : server.GameFailed.Result is GalaxyTakenOverException ? " after another server took the galaxy over" : " after the game loop's failure");
        try
        {
            await server.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // the process ends either way: one logged error and exit code 1, not an unhandled exception
        catch (Exception e)
#pragma warning restore CA1031
        {
            log.LogCritical(e, "The stop failed");
            return 1;
        }
        if (server.Progress.UnsavedAtStop is > 0 and var unsaved)
        {
            // Logged where it happened; the exit code tells a supervisor that this stop lost progress.
            log.LogError("Stopped with {Count} players' last states not saved: exit code 1", unsaved);
            return 1;
        }
        return failed ? 1 : 0;
    }
}
