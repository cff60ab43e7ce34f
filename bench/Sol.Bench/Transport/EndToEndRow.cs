namespace Sol.Bench.Transport;

/// <summary>One measured row: a scenario on one server.</summary>
/// <param name="Scenario">What ran, e.g. <c>fan-out 256 x 2048 B @ 20 Hz</c>.</param>
/// <param name="Server">The server.</param>
/// <param name="Seconds">The measured window.</param>
/// <param name="Messages">Messages delivered to clients in the window.</param>
/// <param name="ServerCpu">The server process's CPU time in the window.</param>
/// <param name="Allocated">Bytes the server allocated in the window.</param>
/// <param name="Error">Why the row has no numbers, when it has none.</param>
public sealed record EndToEndRow(string Scenario, BenchServerKind Server, double Seconds, long Messages, TimeSpan ServerCpu,
    long Allocated, string? Error = null)
{
    /// <summary>With <c>--alloc-types</c>: the types the server allocated most in the window (sampled).</summary>
    public string? AllocationTypes { get; init; }

    /// <summary>How many rounds this row is the median of (see <see cref="EndToEndBench"/>).</summary>
    public int Rounds { get; init; } = 1;

    /// <summary>The lowest <see cref="MessagesPerCpuSecond"/> of the rounds.</summary>
    public double MinPerCpuSecond { get; init; }

    /// <summary>The highest <see cref="MessagesPerCpuSecond"/> of the rounds.</summary>
    public double MaxPerCpuSecond { get; init; }

    public double MessagesPerSecond => Messages / Seconds;

    public double CpuMicrosecondsPerMessage => Messages == 0 ? double.NaN : ServerCpu.TotalMicroseconds / Messages;

    public double MessagesPerCpuSecond => ServerCpu <= TimeSpan.Zero ? double.NaN : Messages / ServerCpu.TotalSeconds;

    public double AllocatedPerMessage => Messages == 0 ? double.NaN : (double)Allocated / Messages;
}
