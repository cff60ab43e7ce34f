using System.Text.Json;
using HdrHistogram;

namespace Sol.LoadGen.Tests;

public class ReportTests
{
    private const string Metrics = """
        # HELP sol_connections Open game connections
        # TYPE sol_connections gauge
        sol_connections 12
        # TYPE sol_tick_overruns_total counter
        sol_tick_overruns_total 3
        # TYPE sol_tick_duration_seconds histogram
        sol_tick_duration_seconds_bucket{le="0.001"} 50
        sol_tick_duration_seconds_bucket{le="0.005"} 90
        sol_tick_duration_seconds_bucket{le="0.025"} 99
        sol_tick_duration_seconds_bucket{le="+Inf"} 100
        sol_tick_duration_seconds_sum 0.25
        sol_tick_duration_seconds_count 100
        process_cpu_seconds_total 12.5
        """;

    [Fact]
    public void TheScrapeReadsTicksOverrunsAndCpu()
    {
        var scrape = ServerScrape.Parse(Metrics);
        Assert.Equal(3, scrape.Overruns);
        Assert.Equal(12.5, scrape.CpuSeconds);
        Assert.Equal(12, scrape.Connections);
        Assert.Equal(4, scrape.TickBuckets.Count);
        var empty = ServerScrape.Parse("");
        Assert.Equal(1, scrape.TickQuantileMs(empty, 0.5));
        Assert.Equal(25, scrape.TickQuantileMs(empty, 0.99));
        Assert.Null(scrape.TickQuantileMs(scrape, 0.99)); // no tick between two equal scrapes
    }

    [Fact]
    public void TheWholeTickIsReadWhenTheServerHasIt()
    {
        // helper-64: the workers' histogram does not see the between-ticks pass (16 ms at 100,000 systems).
        var scrape = ServerScrape.Parse(Metrics + """

            sol_tick_total_seconds_bucket{le="0.001"} 10
            sol_tick_total_seconds_bucket{le="0.025"} 60
            sol_tick_total_seconds_bucket{le="+Inf"} 100
            """);
        Assert.Equal(3, scrape.TickBuckets.Count);
        Assert.Equal(25, scrape.TickQuantileMs(ServerScrape.Parse(""), 0.5));
        Assert.Equal(double.PositiveInfinity, scrape.TickQuantileMs(ServerScrape.Parse(""), 0.99));
    }

    [Fact]
    public void QuantilesComeFromTheTicksBetweenTwoScrapes()
    {
        var before = ServerScrape.Parse(Metrics);
        var after = ServerScrape.Parse(Metrics
            .Replace("le=\"0.001\"} 50", "le=\"0.001\"} 50", StringComparison.Ordinal)
            .Replace("le=\"0.005\"} 90", "le=\"0.005\"} 90", StringComparison.Ordinal)
            .Replace("le=\"0.025\"} 99", "le=\"0.025\"} 199", StringComparison.Ordinal)
            .Replace("le=\"+Inf\"} 100", "le=\"+Inf\"} 200", StringComparison.Ordinal));
        // The 100 new ticks all fell between 5 and 25 ms.
        Assert.Equal(25, after.TickQuantileMs(before, 0.5));
    }

    [Fact]
    public void PercentilesAreInMillisecondsAndTheJsonHasTheDocumentedShape()
    {
        var m = new Measurements();
        for (var i = 1; i <= 1000; i++)
        {
            Measurements.Record(m.InputToAck, TimeSpan.FromMilliseconds(i / 10.0));
        }
        m.Error("closed:1008");
        m.Error("game:TooFar");
        var options = new LoadGenOptions { Bots = 10, AssertP99Ms = 50, AssertMaxErrorRate = 0 };
        var report = RunReport.Create(options, m, TimeSpan.FromSeconds(10), 100, TimeSpan.FromSeconds(2), null, null);
        Assert.Equal(1000, report.InputToAck.Count);
        Assert.InRange(report.InputToAck.P50, 49.5, 50.5);
        Assert.InRange(report.InputToAck.P99, 98.5, 99.5);
        Assert.Equal(0.1, report.ErrorRate); // the game error is not a connection error
        Assert.Equal(20, report.LoadgenCpuPercent, 3);

        var failures = report.Check(options);
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.Contains("input-to-ack p99", StringComparison.Ordinal));

        using var json = JsonDocument.Parse(report.ToJson());
        foreach (var name in new[] { "bots", "inputToAck", "snapshotGap", "jumpToZoneEnter", "colonizeToColonyInfo", "colonies", "colonizesRefused", "errors", "errorRate", "serverTickP99Ms", "loadgenCpuPercent" })
        {
            Assert.True(json.RootElement.TryGetProperty(name, out _), name);
        }
        Assert.Equal(99, json.RootElement.GetProperty("inputToAck").GetProperty("p99").GetDouble(), 0);
        Assert.Contains("input -> ack", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void ATickQuantileBeyondTheLastBucketStillMakesAReport()
    {
        var before = ServerScrape.Parse(Metrics);
        var after = ServerScrape.Parse(Metrics.Replace("le=\"+Inf\"} 100", "le=\"+Inf\"} 200", StringComparison.Ordinal));
        Assert.Equal(double.PositiveInfinity, after.TickQuantileMs(before, 0.99)); // the 100 new ticks all took over 25 ms
        var report = RunReport.Create(new LoadGenOptions { Bots = 1 }, new Measurements(), TimeSpan.FromSeconds(1), 1, TimeSpan.Zero, before, after);
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.Equal("Infinity", json.RootElement.GetProperty("serverTickP99Ms").GetString());
        Assert.Contains("p99 beyond the last bucket", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void AServerRestartedDuringTheRunGivesNoServerNumbers()
    {
        // The run ends against a new process whose counters started again from 0: the differences were nonsense ("CPU
        // -20.4 %" in a run across a restart).
        var before = ServerScrape.Parse(Metrics);
        var after = ServerScrape.Parse(Metrics.Replace("process_cpu_seconds_total 12.5", "process_cpu_seconds_total 3.5", StringComparison.Ordinal)
            .Replace("le=\"+Inf\"} 100", "le=\"+Inf\"} 40", StringComparison.Ordinal));
        Assert.False(after.Follows(before));
        Assert.True(before.Follows(before));
        // A restarted server that has overtaken the counters is told by its start time (helper-78).
        var started = ServerScrape.Parse(Metrics + "\nprocess_start_time_seconds 1764576000.5");
        var overtaken = ServerScrape.Parse(Metrics.Replace("process_cpu_seconds_total 12.5", "process_cpu_seconds_total 20", StringComparison.Ordinal)
            + "\nprocess_start_time_seconds 1764576100.25");
        Assert.Equal(1764576000.5, started.StartTime);
        Assert.False(overtaken.Follows(started));
        Assert.True(started.Follows(started));
        var report = RunReport.Create(new LoadGenOptions { Bots = 1 }, new Measurements(), TimeSpan.FromSeconds(10), 1, TimeSpan.Zero, before, after);
        Assert.True(report.ServerRestarted);
        Assert.Null(report.ServerCpuPercent);
        Assert.Null(report.ServerTickP99Ms);
        Assert.Contains("server                  restarted during the run", report.ToText(), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(report.ToJson());
        Assert.True(json.RootElement.GetProperty("serverRestarted").GetBoolean());
    }

    [Fact]
    public void AHistogramWithNothingInItReportsZeros()
    {
        var p = Percentiles.Of(new LongHistogram(1, 1000, 3));
        Assert.Equal(new Percentiles(0, 0, 0, 0, 0, 0), p);
    }
}
