using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Sol.Bench.Transport;

/// <summary>
/// The harness's side of <see cref="BenchServerHost"/>: this same program started again as a child process, so that
/// the server's CPU time and memory are its own. Commands are answered in order, one line each.
/// </summary>
public sealed class BenchServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(30);

    private readonly Process _process;

    private BenchServerProcess(Process process, IPEndPoint endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    public static async Task<BenchServerProcess> StartAsync(BenchServerKind kind, bool sampleAllocations = false)
    {
        var start = new ProcessStartInfo
        {
            FileName = kind == BenchServerKind.Floor ? FloorServerPath() : Environment.ProcessPath ?? "dotnet",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (kind != BenchServerKind.Floor)
        {
            if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
            {
                start.ArgumentList.Add(typeof(BenchServerProcess).Assembly.Location);
            }
            if (sampleAllocations)
            {
                start.Environment["SOL_BENCH_ALLOC_TYPES"] = "1";
            }
            start.ArgumentList.Add("transport-e2e-server");
            start.ArgumentList.Add(BenchServerHost.Name(kind));
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server process");
        try
        {
            using var deadline = new CancellationTokenSource(s_startDeadline);
            var line = await process.StandardOutput.ReadLineAsync(deadline.Token)
                ?? throw new InvalidOperationException($"the {kind} server process exited before it listened");
            if (!line.StartsWith("listening ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the {kind} server process said: {line}");
            }
            var port = int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture);
            return new BenchServerProcess(process, new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The floor reference's binary: <c>SOL_BENCH_FLOOR_SERVER</c>, or bench/floor/build/floor-server in the checkout
    /// this program was built from (the bench scripts build it with bench/floor/build.sh).
    /// </summary>
    private static string FloorServerPath() =>
        FindFloorServer() ?? throw new InvalidOperationException(FloorServerMissing());

    /// <summary>Why the floor reference cannot be started, or null when its binary is there.</summary>
    public static string? FloorServerMissing() =>
        FindFloorServer() is not null ? null
        : Environment.GetEnvironmentVariable("SOL_BENCH_FLOOR_SERVER") is { Length: > 0 } path
            ? $"SOL_BENCH_FLOOR_SERVER names {path}, which does not exist (bench/floor/build.sh builds it)"
            : "the floor reference is not built: run bench/floor/build.sh (needs cc), or leave floor out of --servers";

    private static string? FindFloorServer()
    {
        if (Environment.GetEnvironmentVariable("SOL_BENCH_FLOOR_SERVER") is { Length: > 0 } path)
        {
            return File.Exists(path) ? path : null;
        }
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "bench", "floor", "build", "floor-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The server's CPU time so far and the bytes it has allocated.</summary>
    public async Task<(TimeSpan Cpu, long Allocated)> CpuAsync()
    {
        var parts = await AskAsync("cpu");
        return (TimeSpan.FromMicroseconds(long.Parse(parts[1], CultureInfo.InvariantCulture)),
            long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>The types the server allocated most since the last call (sampled; see <see cref="AllocationSampler"/>).</summary>
    public async Task<string> AllocationTypesAsync() => (await AskAsync("alloc-top"))[1];

    /// <summary>Open WebSocket connections as the server counts them.</summary>
    public async Task<int> ConnectionsAsync() => int.Parse((await AskAsync("conns"))[1], CultureInfo.InvariantCulture);

    /// <summary>After a full GC: connections, resident set size and managed heap size.</summary>
    public async Task<(int Connections, long Resident, long Heap)> StatsAsync()
    {
        var parts = await AskAsync("stats");
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture),
            long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>Waits until the server counts <paramref name="connections"/> open connections.</summary>
    public async Task<bool> WaitForConnectionsAsync(int connections, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await ConnectionsAsync() == connections)
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    private async Task<string[]> AskAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await _process.StandardOutput.ReadLineAsync(deadline.Token)
            ?? throw new InvalidOperationException("the server process exited");
        var parts = line.Split(' ');
        if (parts[0] != command)
        {
            throw new InvalidOperationException($"the server process answered '{line}' to '{command}'");
        }
        return parts;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
