using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Sol.LoadGen;

/// <summary>The numbers of one run, for the text report, the JSON report and the thresholds.</summary>
public sealed record RunReport
{
    public required int Bots { get; init; }

    public required string Scenario { get; init; }

    public required double Seconds { get; init; }

    /// <summary>Connected bot-seconds (the denominator of every per-bot rate).</summary>
    public required double BotSeconds { get; init; }

    public required Percentiles Login { get; init; }

    public required Percentiles ConnectToWelcome { get; init; }

    public required Percentiles InputToAck { get; init; }

    public required Percentiles JumpToZoneEnter { get; init; }

    public required Percentiles SnapshotGap { get; init; }

    public required Percentiles ColonizeToColonyInfo { get; init; }

    public required double SnapshotsPerBotSecond { get; init; }

    public required double MessagesInPerBotSecond { get; init; }

    public required double MessagesOutPerBotSecond { get; init; }

    public required double BytesInPerBotSecond { get; init; }

    public required double BytesOutPerBotSecond { get; init; }

    public required long Jumps { get; init; }

    public required long Landings { get; init; }

    public required long TakeOffs { get; init; }

    public required long RequestsFailed { get; init; }

    public required long Colonies { get; init; }

    /// <summary>Colonizes the game refused (no credits left, colonized already, planet full), which travel bots meet as players do.</summary>
    public required long ColonizesRefused { get; init; }

    public required long Disconnects { get; init; }

    public required long Reconnects { get; init; }

    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    /// <summary>Connection-level errors (login, connect, unexpected closes, invalid messages) per bot.</summary>
    public required double ErrorRate { get; init; }

    public required double LoadgenCpuPercent { get; init; }

    public double? ServerTickP99Ms { get; init; }

    public double? ServerTickP50Ms { get; init; }

    public double? ServerOverruns { get; init; }

    public double? ServerCpuPercent { get; init; }

    /// <summary>The server restarted during the run (its counters went down): no server numbers.</summary>
    public bool ServerRestarted { get; init; }

    public static RunReport Create(LoadGenOptions options, Measurements m, TimeSpan elapsed, double botSeconds, TimeSpan cpu, ServerScrape? before, ServerScrape? after)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(m);
        var perBot = Math.Max(botSeconds, 1e-9);
        var connectionErrors = m.Errors.Where(e => !e.Key.StartsWith("game:", StringComparison.Ordinal)).Sum(e => e.Value);
        var restarted = before is not null && after is not null && !after.Follows(before);
        if (restarted)
        {
            (before, after) = (null, null);
        }
        return new RunReport
        {
            Bots = options.Bots,
            Scenario = options.Scenario.ToString().ToLowerInvariant(),
            Seconds = elapsed.TotalSeconds,
            BotSeconds = botSeconds,
            Login = Percentiles.Of(m.Login),
            ConnectToWelcome = Percentiles.Of(m.ConnectToWelcome),
            InputToAck = Percentiles.Of(m.InputToAck),
            JumpToZoneEnter = Percentiles.Of(m.JumpToZoneEnter),
            SnapshotGap = Percentiles.Of(m.SnapshotGap),
            ColonizeToColonyInfo = Percentiles.Of(m.ColonizeToColonyInfo),
            SnapshotsPerBotSecond = m.Snapshots / perBot,
            MessagesInPerBotSecond = m.MessagesIn / perBot,
            MessagesOutPerBotSecond = m.MessagesOut / perBot,
            BytesInPerBotSecond = m.BytesIn / perBot,
            BytesOutPerBotSecond = m.BytesOut / perBot,
            Jumps = m.Jumps,
            Landings = m.Landings,
            TakeOffs = m.TakeOffs,
            RequestsFailed = m.RequestsFailed,
            Colonies = m.Colonies,
            ColonizesRefused = m.ColonizesRefused,
            Disconnects = m.Disconnects,
            Reconnects = m.Reconnects,
            Errors = new SortedDictionary<string, long>(m.Errors.ToDictionary(e => e.Key, e => e.Value), StringComparer.Ordinal),
            ErrorRate = options.Bots == 0 ? 0 : (double)connectionErrors / options.Bots,
            LoadgenCpuPercent = 100 * cpu.TotalSeconds / Math.Max(elapsed.TotalSeconds, 1e-9),
            ServerTickP99Ms = before is null || after is null ? null : after.TickQuantileMs(before, 0.99),
            ServerTickP50Ms = before is null || after is null ? null : after.TickQuantileMs(before, 0.50),
            ServerOverruns = before is null || after is null ? null : after.Overruns - before.Overruns,
            ServerCpuPercent = before is null || after is null ? null : 100 * (after.CpuSeconds - before.CpuSeconds) / Math.Max(elapsed.TotalSeconds, 1e-9),
            ServerRestarted = restarted,
        };
    }

    /// <summary>The thresholds this run missed, one sentence each (empty when it passed).</summary>
    public IReadOnlyList<string> Check(LoadGenOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.AssertP99Ms is { } p99 && (InputToAck.Count == 0 || InputToAck.P99 > p99))
        {
            failures.Add(InputToAck.Count == 0
                ? $"threshold missed: no input was acknowledged (--assert-p99-ms {p99})"
                : $"threshold missed: input-to-ack p99 {InputToAck.P99:0.0} ms > {p99} ms");
        }
        if (options.AssertMaxErrorRate is { } rate && ErrorRate > rate)
        {
            failures.Add($"threshold missed: error rate {ErrorRate:0.###} per bot > {rate} ({string.Join(", ", Errors.Select(e => $"{e.Key} {e.Value}"))})");
        }
        return failures;
    }

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var t = new StringBuilder();
        t.AppendLine(c, $"loadgen: {Bots} bots, scenario {Scenario}, {Seconds:0.0} s ({BotSeconds:0} connected bot-seconds)");
        t.AppendLine("latency (ms)            count      p50      p90      p99    p99.9      max");
        Line(t, "login", Login);
        Line(t, "connect -> Welcome", ConnectToWelcome);
        Line(t, "input -> ack", InputToAck);
        Line(t, "jump/land -> ZoneEnter", JumpToZoneEnter);
        Line(t, "snapshot gap", SnapshotGap);
        Line(t, "colonize -> ColonyInfo", ColonizeToColonyInfo);
        t.AppendLine(c, $"per bot per second      snapshots {SnapshotsPerBotSecond:0.0}, messages in {MessagesInPerBotSecond:0.0} / out {MessagesOutPerBotSecond:0.0}, bytes in {BytesInPerBotSecond:N0} / out {BytesOutPerBotSecond:N0}");
        t.AppendLine(c, $"travel                  jumps {Jumps}, landings {Landings}, take-offs {TakeOffs}, requests failed {RequestsFailed}; colonies {Colonies}, colonizes refused {ColonizesRefused}");
        t.AppendLine(c, $"connections             disconnects {Disconnects}, reconnects {Reconnects}, error rate {ErrorRate:0.###} per bot");
        t.AppendLine(c, $"errors                  {(Errors.Count == 0 ? "none" : string.Join(", ", Errors.Select(e => $"{e.Key} {e.Value}")))}");
        if (ServerRestarted)
        {
            t.AppendLine("server                  restarted during the run: no tick, overrun or CPU numbers");
        }
        else
        {
            t.AppendLine(c, $"server                  tick p50 {Fmt(ServerTickP50Ms)} ms, p99 {Fmt(ServerTickP99Ms)} ms (bucket bounds), overruns {Fmt(ServerOverruns)}, CPU {Fmt(ServerCpuPercent)} %");
        }
        t.AppendLine(c, $"loadgen                 CPU {LoadgenCpuPercent:0} % (100 % = one core)");
        return t.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    // A tick quantile beyond the server's last histogram bucket is +Infinity, written as the string "Infinity".
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static void Line(StringBuilder t, string name, Percentiles p) =>
        t.AppendLine(CultureInfo.InvariantCulture, $"{name,-22} {p.Count,7} {p.P50,8:0.0} {p.P90,8:0.0} {p.P99,8:0.0} {p.P999,8:0.0} {p.Max,8:0.0}");

    private static string Fmt(double? value) => value switch
    {
        null => "n/a",
        double.PositiveInfinity => "beyond the last bucket",
        { } v => v.ToString("0.##", CultureInfo.InvariantCulture),
    };
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record Percentiles(long Count, double P50, double P90, double P99, double P999, double Max)
{
    public static Percentiles Of(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.TotalCount == 0)
        {
            return new Percentiles(0, 0, 0, 0, 0, 0);
        }
        return new Percentiles(
            histogram.TotalCount,
            histogram.GetValueAtPercentile(50) / 1000.0,
            histogram.GetValueAtPercentile(90) / 1000.0,
            histogram.GetValueAtPercentile(99) / 1000.0,
            histogram.GetValueAtPercentile(99.9) / 1000.0,
            histogram.GetMaxValue() / 1000.0);
    }
}
