using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sol.LoadGen;

/// <summary>One load run: checks the server answers (its HTTP API's <c>/metrics</c> and a TCP connect to the game port), starts the bots over the ramp, shows live progress, stops them
/// after the duration, scrapes the server's metrics and builds the report.</summary>
public static class LoadRun
{
    /// <summary>Open files kept beyond one a bot: the HTTP pool's 64 connections and the runtime's own.</summary>
    internal const int FilesBeyondBots = 64 + 128;

    /// <summary>
    /// Why <paramref name="bots"/> bots (one socket each) cannot run under <paramref name="limit"/> open files with
    /// <paramref name="open"/> in use, or null when they can (or either is unknown). At the limit bots would fail to connect
    /// one after another, and the runtime could not start a thread.
    /// </summary>
    internal static string? TooManyForOpenFiles(int bots, long? limit, int? open)
    {
        if (limit is not { } l || open is not { } o || o + bots + FilesBeyondBots <= l)
        {
            return null;
        }
        return $"--bots {bots} needs about {o + bots + FilesBeyondBots} open files and this process may open {l}: raise the limit (ulimit -n) or run fewer bots";
    }

    public static async Task<(int ExitCode, RunReport? Report)> RunAsync(LoadGenOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = options.ConnectTimeout };
        using var http = new HttpClient(handler) { Timeout = options.ConnectTimeout + TimeSpan.FromSeconds(20) };

        var before = await ScrapeAsync(http, options, cancellationToken).ConfigureAwait(false);
        if (before.Error is { } unreachable)
        {
            await error.WriteLineAsync($"loadgen: cannot reach the server at {options.Http}: {unreachable}").ConfigureAwait(false);
            return (1, null);
        }
        if (await ProbeGameAsync(options, cancellationToken).ConfigureAwait(false) is { } closed)
        {
            await error.WriteLineAsync($"loadgen: cannot reach the game server at {options.Game}: {closed}").ConfigureAwait(false);
            return (1, null);
        }
        if (TooManyForOpenFiles(options.Bots, Sol.Core.Processes.OpenFiles.Limit(), Sol.Core.Processes.OpenFiles.Count()) is { } files)
        {
            await error.WriteLineAsync($"loadgen: {files}").ConfigureAwait(false);
            return (1, null);
        }

        var measurements = new Measurements();
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var bots = new List<Task>(options.Bots);
        var live = LiveAsync(options, measurements, clock, output, stop.Token);
        var botSeconds = 0.0;
        var sampler = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (await tick.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                botSeconds += measurements.Connected * 0.1;
            }
        }, stop.Token);

        try
        {
            for (var i = 0; i < options.Bots; i++)
            {
                var due = options.Bots <= 1 ? TimeSpan.Zero : options.Ramp * i / options.Bots;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop.Token).ConfigureAwait(false);
                }
                var scenario = options.Scenario;
                var bot = new Bot(i, scenario, options, http, measurements);
                bots.Add(Task.Run(() => bot.RunAsync(stop.Token), stop.Token));
            }
            var end = options.Ramp + options.Duration - clock.Elapsed;
            if (end > TimeSpan.Zero)
            {
                await Task.Delay(end, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("loadgen: interrupted; reporting what was measured").ConfigureAwait(false);
        }
        var elapsed = clock.Elapsed;
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(bots).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }
        await IgnoreCancellation(live).ConfigureAwait(false);
        await IgnoreCancellation(sampler).ConfigureAwait(false);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuStart;
        var after = await ScrapeAsync(http, options, CancellationToken.None).ConfigureAwait(false);

        var report = RunReport.Create(options, measurements, elapsed, botSeconds, cpu, before.Scrape, after.Scrape);
        var failures = report.Check(options).ToList();
        // The ports answered, yet no bot got into the game (the logins or the WebSocket upgrades all failed): the server
        // could not be reached as a player reaches it. A run too short for any bot to try has no errors and passes.
        if (measurements.ConnectToWelcome.TotalCount == 0 &&
            report.Errors.Where(e => e.Key.StartsWith("login:", StringComparison.Ordinal) || e.Key.StartsWith("connect:", StringComparison.Ordinal)).ToList() is { Count: > 0 } refused)
        {
            failures.Insert(0, $"no bot got into the game at {options.Game} ({string.Join(", ", refused.Select(e => $"{e.Key} {e.Value}"))})");
        }
        foreach (var failure in failures)
        {
            await error.WriteLineAsync($"loadgen: {failure}").ConfigureAwait(false);
        }
        return (failures.Count == 0 ? 0 : 1, report);
    }

    private static async Task<(ServerScrape? Scrape, string? Error)> ScrapeAsync(HttpClient http, LoadGenOptions options, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            using var response = await http.GetAsync(new Uri(options.Http, "/metrics"), timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (null, $"GET /metrics answered {(int)response.StatusCode}");
            }
            return (ServerScrape.Parse(await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false)), null);
        }
        catch (HttpRequestException e)
        {
            return (null, e.InnerException?.Message ?? e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {options.ConnectTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>A TCP connect to the game's host and port, within the connect timeout: null when it answers, else why not.</summary>
    private static async Task<string?> ProbeGameAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        var port = options.Game.IsDefaultPort || options.Game.Port < 0
            ? (options.Game.Scheme.Equals("wss", StringComparison.OrdinalIgnoreCase) ? 443 : 80)
            : options.Game.Port;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(options.Game.IdnHost, port, timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (SocketException e)
        {
            return e.Message;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {options.ConnectTimeout.TotalSeconds:0.###} s";
        }
    }

    private static async Task LiveAsync(LoadGenOptions options, Measurements m, Stopwatch clock, TextWriter output, CancellationToken stop)
    {
        if (!options.Live)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long lastIn = 0;
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            var messages = m.MessagesIn;
            await output.WriteAsync(
                $"\r{clock.Elapsed.TotalSeconds,5:0}s  bots {m.Connected,5}/{options.Bots}  in {messages - lastIn,7:N0} msg/s  " +
                $"input->ack p50 {m.InputToAck.GetValueAtPercentile(50) / 1000.0,6:0.0} ms p99 {m.InputToAck.GetValueAtPercentile(99) / 1000.0,6:0.0} ms  errors {m.ErrorCount}   ").ConfigureAwait(false);
            lastIn = messages;
        }
    }

    private static async Task IgnoreCancellation(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
