namespace Sol.Server.Metrics;

/// <summary>
/// A fixed-bucket histogram for Prometheus: lock-free counts per upper bound, a sum and a count. Recording is a few
/// interlocked adds, safe from any thread.
/// </summary>
public sealed class Histogram(string name, string help, double[] upperBounds)
{
    private readonly long[] _buckets = new long[upperBounds.Length + 1];
    private long _count;
    private long _sumMicros;

    public string Name { get; } = name;

    public string Help { get; } = help;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Records a value in seconds.</summary>
    public void Record(double seconds)
    {
        var i = 0;
        while (i < upperBounds.Length && seconds > upperBounds[i])
        {
            i++;
        }
        Interlocked.Increment(ref _buckets[i]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1e6));
    }

    /// <summary>The smallest bucket bound below which <paramref name="quantile"/> of the values fall (an upper estimate).</summary>
    public double Quantile(double quantile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < upperBounds.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank)
            {
                return upperBounds[i];
            }
        }
        return double.PositiveInfinity;
    }

    public void WriteTo(PrometheusWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Header(Name, Help, "histogram");
        long cumulative = 0;
        for (var i = 0; i < upperBounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _buckets[i]);
            writer.Sample(Name + "_bucket", cumulative, "le", PrometheusWriter.Number(upperBounds[i]));
        }
        cumulative += Interlocked.Read(ref _buckets[^1]);
        writer.Sample(Name + "_bucket", cumulative, "le", "+Inf");
        writer.Sample(Name + "_sum", Interlocked.Read(ref _sumMicros) / 1e6);
        writer.Sample(Name + "_count", cumulative);
    }
}
