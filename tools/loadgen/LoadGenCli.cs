using System.CommandLine;
using System.Globalization;
using Sol.Core.Cli;

namespace Sol.LoadGen;

/// <summary>
/// The <c>loadgen</c> command line. Exit codes: 0 the run passed its thresholds; 1 a threshold was missed, the server
/// could not be reached (its HTTP API, its game port, or no bot got into the game) or the report could not be written;
/// 2 bad arguments (one line on stderr).
/// </summary>
public static class LoadGenCli
{
    /// <summary>The most bots one loadgen runs (each holds a WebSocket, two loops and buffers).</summary>
    public const int MaxBots = 100_000;

    /// <summary>The longest <c>--ramp</c>, <c>--duration</c> or <c>--connect-timeout</c>: 7 days.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var httpOption = new Option<string>("--http") { Description = "The server's HTTP API", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var gameOption = new Option<string>("--game") { Description = "The game WebSocket", DefaultValueFactory = _ => "ws://127.0.0.1:7777/ws" };
        var botsOption = FlagValues.Whole("--bots", "How many bots", 1, MaxBots, 100);
        var rampOption = new Option<string>("--ramp") { Description = "Time over which the bots start (e.g. 10s, 500ms, 1m)", DefaultValueFactory = _ => "10s" };
        var durationOption = new Option<string>("--duration") { Description = "How long the full load runs after the ramp", DefaultValueFactory = _ => "60s" };
        var scenarioOption = new Option<string>("--scenario") { Description = "idle, wander, travel or mixed", DefaultValueFactory = _ => "mixed" };
        scenarioOption.AcceptOnlyFromAmong("idle", "wander", "travel", "mixed");
        var mixOption = new Option<string>("--mix") { Description = "Weights for mixed, e.g. idle=1,wander=2,travel=2", DefaultValueFactory = _ => "idle=1,wander=2,travel=2" };
        var inputRateOption = FlagValues.Whole("--input-rate", "Inputs per second per bot", 1, 120, 20);
        var seedOption = FlagValues.Seed("Seed for the bots' choices (and their device ids)", 1);
        var reportOption = new Option<string>("--report") { Description = "text or json", DefaultValueFactory = _ => "text" };
        reportOption.AcceptOnlyFromAmong("text", "json");
        var outOption = new Option<string?>("--out") { Description = "Write the report to this file (default: stdout)" };
        // Read as written ("0,5" was 5: an assertion ten times looser, without a word; helper-74).
        var p99Option = FlagValues.Optional("--assert-p99-ms", "Exit 1 when input-to-ack p99 is above this", 0, double.PositiveInfinity);
        var errorRateOption = FlagValues.Optional("--assert-max-error-rate", "Exit 1 when connection errors per bot are above this", 0, double.PositiveInfinity);
        var timeoutOption = new Option<string>("--connect-timeout") { Description = "Timeout for each login and connection", DefaultValueFactory = _ => "10s" };
        var quietOption = new Option<bool>("--quiet") { Description = "No live view even on a terminal" };

        var root = new RootCommand("loadgen: bots that play Sol and a report of what players feel and what the server pays.")
        {
            httpOption, gameOption, botsOption, rampOption, durationOption, scenarioOption, mixOption, inputRateOption, seedOption,
            reportOption, outOption, p99Option, errorRateOption, timeoutOption, quietOption,
        };
        LoadGenOptions? options = null;
        string? problem = null;
        root.SetAction(parse =>
        {
            try
            {
                options = new LoadGenOptions
                {
                    Http = Url(parse.GetValue(httpOption)!, "--http", "http", "https"),
                    Game = Url(parse.GetValue(gameOption)!, "--game", "ws", "wss"),
                    Bots = parse.GetValue(botsOption),
                    Ramp = Duration(parse.GetValue(rampOption)!, "--ramp"),
                    Duration = Duration(parse.GetValue(durationOption)!, "--duration"),
                    Scenario = Enum.Parse<Scenario>(parse.GetValue(scenarioOption)!, ignoreCase: true),
                    Mix = Mix(parse.GetValue(mixOption)!),
                    InputRate = parse.GetValue(inputRateOption),
                    Seed = parse.GetValue(seedOption) ?? 1,
                    Report = parse.GetValue(reportOption)!,
                    Out = OutFile(parse.GetValue(outOption)),
                    AssertP99Ms = parse.GetValue(p99Option),
                    AssertMaxErrorRate = parse.GetValue(errorRateOption),
                    ConnectTimeout = Duration(parse.GetValue(timeoutOption)!, "--connect-timeout", allowZero: false),
                    Live = !parse.GetValue(quietOption) && !Console.IsOutputRedirected,
                };
            }
            catch (FormatException e)
            {
                problem = e.Message;
            }
        });

        var parsed = root.Parse(FlagValues.HelpCommand(args));
        if (FlagValues.Problems(parsed, root.Options) is { } messages)
        {
            await error.WriteLineAsync($"loadgen: {messages} (see 'loadgen --help')").ConfigureAwait(false);
            return 2;
        }
        var code = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            await error.WriteLineAsync($"loadgen: {problem}").ConfigureAwait(false);
            return 2;
        }
        if (options is null)
        {
            return code; // --help
        }

        int exit;
        RunReport? report;
        try
        {
            (exit, report) = await LoadRun.RunAsync(options, output, error, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted while checking the server, before any bot started: nothing to report.
            await error.WriteLineAsync("loadgen: interrupted before the run started").ConfigureAwait(false);
            return 1;
        }
        if (report is null)
        {
            return exit;
        }
        if (options.Live)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
        }
        var text = options.Report == "json" ? report.ToJson() : report.ToText();
        if (options.Out is { } file)
        {
            try
            {
                await File.WriteAllTextAsync(file, text, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The run's measurements are not lost: the report goes to stdout instead.
                await output.WriteAsync(text).ConfigureAwait(false);
                await error.WriteLineAsync($"loadgen: cannot write the report to {file}: {e.Message.ReplaceLineEndings(" ")} (it went to stdout)").ConfigureAwait(false);
                return 1;
            }
            if (options.Report == "json")
            {
                await output.WriteAsync(report.ToText()).ConfigureAwait(false);
            }
        }
        else
        {
            await output.WriteAsync(text).ConfigureAwait(false);
        }
        return exit;
    }

    internal static TimeSpan Duration(string text, string flag, bool allowZero = true)
    {
        text = text.Trim();
        var seconds = Seconds(text) ?? throw new FormatException($"{flag}: '{text}' is not a duration (use e.g. 500ms, 10s, 2m)");
        // Compared as seconds, before TimeSpan sees them: 1e400s is infinity and 1e12s overflows a TimeSpan.
        if (!(seconds <= MaxDuration.TotalSeconds))
        {
            throw new FormatException($"{flag}: '{text}' is longer than {MaxDuration.TotalHours:0}h, the most loadgen takes");
        }
        var duration = TimeSpan.FromSeconds(seconds);
        if (!allowZero && duration <= TimeSpan.Zero)
        {
            throw new FormatException($"{flag} must be more than 0 (got '{text}')");
        }
        return duration;
    }

    private static double? Seconds(string text)
    {
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) &&
                double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 &&
                !(suffix == "s" && text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)))
            {
                return n * seconds;
            }
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) && plain >= 0)
        {
            return plain;
        }
        return null;
    }

    internal static (int Idle, int Wander, int Travel) Mix(string text)
    {
        int idle = 0, wander = 0, travel = 0;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 || !int.TryParse(part[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var weight))
            {
                throw new FormatException($"--mix: '{part}' is not NAME=WEIGHT");
            }
            switch (part[..eq].ToLowerInvariant())
            {
                case "idle": idle = weight; break;
                case "wander": wander = weight; break;
                case "travel": travel = weight; break;
                default: throw new FormatException($"--mix: unknown scenario '{part[..eq]}' (idle, wander, travel)");
            }
        }
        if (idle + wander + travel == 0)
        {
            throw new FormatException("--mix: the weights add up to zero");
        }
        return (idle, wander, travel);
    }

    private static Uri Url(string text, string flag, string plain, string secure)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) &&
            (uri.Scheme.Equals(plain, StringComparison.OrdinalIgnoreCase) || uri.Scheme.Equals(secure, StringComparison.OrdinalIgnoreCase)))
        {
            return uri;
        }
        throw new FormatException($"{flag}: '{text}' is not a {plain}:// or {secure}:// URL");
    }

    /// <summary>Checks before the run that the report can go to <paramref name="path"/>: not a folder, in a folder that exists.</summary>
    private static string? OutFile(string? path)
    {
        if (path is null)
        {
            return null;
        }
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new FormatException($"--out: '{path}' is not a file path");
        }
        if (Directory.Exists(full))
        {
            throw new FormatException($"--out: '{path}' is a folder, not a file");
        }
        if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
        {
            throw new FormatException($"--out: the folder '{folder}' does not exist");
        }
        return path;
    }
}
