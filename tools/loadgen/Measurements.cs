using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Sol.LoadGen;

/// <summary>
/// Everything a run measures, shared by all bots: HdrHistograms of latencies in microseconds (thread-safe recording)
/// and counters (interlocked). Recording allocates nothing.
/// </summary>
public sealed class Measurements
{
    private const long MaxMicros = 60L * 60 * 1_000_000;

    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _connected;
    private long _snapshots;
    private long _messagesIn;
    private long _messagesOut;
    private long _bytesIn;
    private long _bytesOut;
    private long _jumps;
    private long _landings;
    private long _takeOffs;
    private long _requestsFailed;
    private long _colonies;
    private long _colonizesRefused;
    private long _disconnects;
    private long _reconnects;
    private long _inputs;

    public HistogramBase Login { get; } = New();

    public HistogramBase ConnectToWelcome { get; } = New();

    public HistogramBase InputToAck { get; } = New();

    public HistogramBase JumpToZoneEnter { get; } = New();

    public HistogramBase SnapshotGap { get; } = New();

    /// <summary>From sending <c>Colonize</c> to the <c>ColonyInfo</c> naming the bot's colony.</summary>
    public HistogramBase ColonizeToColonyInfo { get; } = New();

    public long Connected => Interlocked.Read(ref _connected);

    public long Snapshots => Interlocked.Read(ref _snapshots);

    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    public long MessagesOut => Interlocked.Read(ref _messagesOut);

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public long Jumps => Interlocked.Read(ref _jumps);

    public long Landings => Interlocked.Read(ref _landings);

    public long TakeOffs => Interlocked.Read(ref _takeOffs);

    public long RequestsFailed => Interlocked.Read(ref _requestsFailed);

    public long Colonies => Interlocked.Read(ref _colonies);

    public long ColonizesRefused => Interlocked.Read(ref _colonizesRefused);

    public long Disconnects => Interlocked.Read(ref _disconnects);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    public long Inputs => Interlocked.Read(ref _inputs);

    public IReadOnlyDictionary<string, long> Errors => _errors;

    public long ErrorCount => _errors.Values.Sum();

    public static void Record(HistogramBase histogram, long startTimestamp) => Record(histogram, Stopwatch.GetElapsedTime(startTimestamp));

    public static void Record(HistogramBase histogram, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        histogram.RecordValue(Math.Clamp((long)(elapsed.TotalMilliseconds * 1000), 1, MaxMicros));
    }

    public void BotConnected() => Interlocked.Increment(ref _connected);

    public void BotDisconnected() => Interlocked.Decrement(ref _connected);

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

    public void Snapshot() => Interlocked.Increment(ref _snapshots);

    public void Input() => Interlocked.Increment(ref _inputs);

    public void Jumped() => Interlocked.Increment(ref _jumps);

    public void Landed() => Interlocked.Increment(ref _landings);

    public void TookOff() => Interlocked.Increment(ref _takeOffs);

    public void RequestFailed() => Interlocked.Increment(ref _requestsFailed);

    public void Colonized() => Interlocked.Increment(ref _colonies);

    public void ColonizeRefused() => Interlocked.Increment(ref _colonizesRefused);

    public void Disconnect() => Interlocked.Increment(ref _disconnects);

    public void Reconnect() => Interlocked.Increment(ref _reconnects);

    public void Error(string kind) => _errors.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    private static LongConcurrentHistogram New() => new(1, MaxMicros, 3);
}
