using System.Diagnostics;

namespace Sol.Server.Metrics;

/// <summary>
/// The server's counters, updated with interlocked adds from socket loops and zone workers, and rendered for
/// <c>GET /metrics</c>. Names follow Prometheus conventions (<c>sol_*</c>, <c>_total</c> for counters, seconds).
/// </summary>
public sealed class ServerMetrics
{
    private long _connectionsOpen;
    private long _connectionsTotal;
    private long _messagesIn;
    private long _messagesOut;
    private long _bytesIn;
    private long _bytesOut;
    private long _badMessages;
    private long _rateLimited;
    private long _requestsThrottled;
    private long _httpRefused;
    private long _playersOnline;

    public Histogram TickDuration { get; } = new(
        "sol_tick_duration_seconds", "Time to step one zone worker's zones for one tick",
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25]);

    public Histogram TickTotal { get; } = new(
        "sol_tick_total_seconds", "Time of one whole tick: the between-ticks work (commands, transfers, joins, leaves) and every worker's steps; over the tick period it is an overrun",
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25]);

    public long ConnectionsOpen => Interlocked.Read(ref _connectionsOpen);

    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    public long BadMessages => Interlocked.Read(ref _badMessages);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connectionsOpen);
        Interlocked.Increment(ref _connectionsTotal);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _connectionsOpen);

    public void MessageIn(int bytes)
    {
        Interlocked.Increment(ref _messagesIn);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    public void MessageOut(int bytes)
    {
        Interlocked.Increment(ref _messagesOut);
        Interlocked.Add(ref _bytesOut, bytes);
    }

    public void BadMessage() => Interlocked.Increment(ref _badMessages);

    public void RateLimited() => Interlocked.Increment(ref _rateLimited);

    public void RequestThrottled() => Interlocked.Increment(ref _requestsThrottled);

    public void HttpConnectionRefused() => Interlocked.Increment(ref _httpRefused);

    /// <summary>Reads the scheduler's overrun count (set once the game runs).</summary>
    public Func<long> Overruns { get; set; } = static () => 0;

    /// <summary>Reads the game connections refused for want of room (set once the game port runs).</summary>
    public Func<long> GameConnectionsRefused { get; set; } = static () => 0;

    /// <summary>Counts the zones awake now (set once the game runs).</summary>
    public Func<int> ZonesAwake { get; set; } = static () => 0;

    /// <summary>Reads the inputs the zones lost so far (set once the game runs; see <c>ZoneWorld.InputLosses</c>).</summary>
    public Func<(long Dropped, long RequestsDropped, long Unroutable, long Stale)> InputLosses { get; set; } = static () => default;

    public void SetPlayersOnline(int count) => Interlocked.Exchange(ref _playersOnline, count);

    public string Render()
    {
        var w = new PrometheusWriter();
        w.Metric("sol_connections", "Open game connections", "gauge", ConnectionsOpen);
        w.Metric("sol_connections_total", "Game connections accepted", "counter", Interlocked.Read(ref _connectionsTotal));
        w.Metric("sol_players_online", "Players with a ship in a zone", "gauge", Interlocked.Read(ref _playersOnline));
        w.Metric("sol_messages_in_total", "Game messages received", "counter", MessagesIn);
        w.Metric("sol_messages_out_total", "Game messages sent", "counter", Interlocked.Read(ref _messagesOut));
        w.Metric("sol_bytes_in_total", "Game payload bytes received", "counter", Interlocked.Read(ref _bytesIn));
        w.Metric("sol_bytes_out_total", "Game payload bytes sent", "counter", Interlocked.Read(ref _bytesOut));
        w.Metric("sol_bad_messages_total", "Messages that failed verification (connection closed with 1007)", "counter", BadMessages);
        w.Metric("sol_rate_limited_total", "Connections closed for exceeding the message rate (1008)", "counter", Interlocked.Read(ref _rateLimited));
        w.Metric("sol_requests_throttled_total", "Colonize and SetRoute answered TooManyRequests (beyond their own rate, or a colonize in flight)", "counter", Interlocked.Read(ref _requestsThrottled));
        w.Metric("sol_connections_refused_total", "Game connections refused: the server was full (--max-connections, answered 503) or had too many handshakes under way", "counter", GameConnectionsRefused());
        w.Metric("sol_http_connections_refused_total", "HTTP API connections closed at once: over the per-address or the total limit", "counter", Interlocked.Read(ref _httpRefused));
        w.Metric("sol_tick_overruns_total", "Ticks that took longer than the tick period", "counter", Overruns());
        w.Metric("sol_zones_awake", "Zones being stepped (zones without players sleep)", "gauge", ZonesAwake());
        var losses = InputLosses();
        w.Metric("sol_inputs_dropped_total", "Inputs dropped from a full zone inbox (the oldest steering inputs first)", "counter", losses.Dropped);
        w.Metric("sol_requests_dropped_total", "Jump, land and take-off requests dropped from a full zone inbox (none while it holds a steering input)", "counter", losses.RequestsDropped);
        w.Metric("sol_inputs_unroutable_total", "Inputs that reached a zone their ship had left", "counter", losses.Unroutable);
        w.Metric("sol_inputs_stale_total", "Inputs older than their ship's last applied one", "counter", losses.Stale);
        TickDuration.WriteTo(w);
        TickTotal.WriteTo(w);
        using var process = Process.GetCurrentProcess();
        w.Metric("process_cpu_seconds_total", "CPU time of the server process", "counter", process.TotalProcessorTime.TotalSeconds);
        w.Metric("process_start_time_seconds", "When the server process started, in seconds since the Unix epoch", "gauge", new DateTimeOffset(process.StartTime).ToUnixTimeMilliseconds() / 1000.0);
        w.Metric("process_resident_memory_bytes", "Resident memory of the server process", "gauge", process.WorkingSet64);
        w.Metric("dotnet_gc_heap_bytes", "Managed heap size", "gauge", GC.GetTotalMemory(false));
        return w.ToString();
    }
}
