using System.Globalization;

namespace Sol.LoadGen;

/// <summary>
/// What loadgen reads from the server's <c>/metrics</c> (Prometheus text): the tick-duration histogram's buckets, the
/// overrun counter and the process's CPU seconds. Two scrapes (start, end) give the run's own numbers by difference.
/// The tick is the whole tick (<c>sol_tick_total_seconds</c>: the between-ticks work too), or on a server without it
/// the workers' steps (<c>sol_tick_duration_seconds</c>), which do not show a slow between-ticks pass (helper-64).
/// </summary>
public sealed record ServerScrape(IReadOnlyList<(double UpperBound, double Count)> TickBuckets, double Overruns, double CpuSeconds, double Connections, double StartTime)
{
    public static ServerScrape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var buckets = new List<(double, double)>();
        var workerBuckets = new List<(double, double)>();
        double overruns = 0, cpu = 0, connections = 0, started = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var space = line.LastIndexOf(' ');
            if (space < 0 || !double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }
            var name = line[..space];
            if (Bucket(name, "sol_tick_total_seconds") is { } whole)
            {
                buckets.Add((whole, value));
            }
            else if (Bucket(name, "sol_tick_duration_seconds") is { } worker)
            {
                workerBuckets.Add((worker, value));
            }
            else if (name == "sol_tick_overruns_total")
            {
                overruns = value;
            }
            else if (name == "process_cpu_seconds_total")
            {
                cpu = value;
            }
            else if (name == "sol_connections")
            {
                connections = value;
            }
            else if (name == "process_start_time_seconds")
            {
                started = value;
            }
        }
        return new ServerScrape(buckets.Count > 0 ? buckets : workerBuckets, overruns, cpu, connections, started);
    }

    /// <summary>
    /// Whether this scrape is of the same server process as <paramref name="earlier"/>, later: the same start time
    /// (<c>process_start_time_seconds</c>), and none of its counters went down (a server without the start time: the
    /// counters alone, which miss a restarted server that has overtaken them). Across a restart the differences would be
    /// meaningless (a negative CPU share).
    /// </summary>
    public bool Follows(ServerScrape earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        if (StartTime != earlier.StartTime)
        {
            return false;
        }
        foreach (var (bound, count) in earlier.TickBuckets)
        {
            if (TickBuckets.FirstOrDefault(b => b.UpperBound == bound).Count < count)
            {
                return false;
            }
        }
        return CpuSeconds >= earlier.CpuSeconds && Overruns >= earlier.Overruns;
    }

    /// <summary>The upper bound of a bucket line of histogram <paramref name="histogram"/>, else null.</summary>
    private static double? Bucket(string name, string histogram)
    {
        var prefix = histogram + "_bucket{le=\"";
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var bound = name[prefix.Length..].TrimEnd('}', '"');
        return bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The tick duration quantile over the ticks between <paramref name="earlier"/> and this scrape, as the upper bound
    /// of the bucket it falls in (milliseconds); null when no tick was recorded.
    /// </summary>
    public double? TickQuantileMs(ServerScrape earlier, double quantile)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var deltas = TickBuckets.Select(b => (b.UpperBound, Count: b.Count - (earlier.TickBuckets.FirstOrDefault(e => e.UpperBound == b.UpperBound).Count))).ToList();
        var total = deltas.Count == 0 ? 0 : deltas[^1].Count;
        if (total <= 0)
        {
            return null;
        }
        var rank = quantile * total;
        foreach (var (bound, count) in deltas)
        {
            if (count >= rank)
            {
                return bound * 1000;
            }
        }
        return double.PositiveInfinity;
    }
}
