using System.Globalization;

namespace Sol.Bench.Transport;

/// <summary>
/// The child process of the end-to-end harness: <c>transport-e2e-server pipelines|kestrel|raw|raw-sendmsg|aspnet|direct</c>
/// (the <c>floor</c> reference is a C program that speaks the same commands: bench/floor/floor-server.c). Starts the server
/// on a free port, prints <c>listening PORT</c>, then answers one line per command read from standard input:
/// <c>cpu</c> -> <c>cpu MICROSECONDS ALLOCATED_BYTES</c> (this process's user + system CPU, precise to the
/// microsecond, and bytes allocated by all threads); <c>conns</c> -> <c>conns N</c>; <c>stats</c> -> after a full
/// blocking, compacting GC, <c>stats CONNECTIONS RSS_BYTES MANAGED_HEAP_BYTES</c>; <c>alloc-top</c> (only with
/// <c>SOL_BENCH_ALLOC_TYPES=1</c>, see <see cref="AllocationSampler"/>) -> <c>alloc-top TYPE=KB;...</c> since the last
/// call. End of input stops the server.
/// </summary>
public static class BenchServerHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 1 || !TryParseKind(args[0], out var kind) || kind == BenchServerKind.Floor)
        {
            await Console.Error.WriteLineAsync("usage: transport-e2e-server pipelines|kestrel|raw|raw-sendmsg|aspnet|direct");
            return 2;
        }
        using var sampler = Environment.GetEnvironmentVariable("SOL_BENCH_ALLOC_TYPES") == "1" ? new AllocationSampler() : null;
        await using var server = await IBenchServer.StartAsync(kind, 0);
        var output = Console.Out;
        await output.WriteLineAsync($"listening {server.Port}");
        await output.FlushAsync();
        while (await Console.In.ReadLineAsync() is { } command)
        {
            var answer = command switch
            {
                "cpu" => $"cpu {(long)Environment.CpuUsage.TotalTime.TotalMicroseconds} {GC.GetTotalAllocatedBytes(precise: true)}",
                "conns" => $"conns {server.Connections}",
                "stats" => Stats(server),
                "alloc-top" => $"alloc-top {sampler?.TakeTop(6) ?? "-"}",
                _ => $"error unknown command {command}",
            };
            await output.WriteLineAsync(answer);
            await output.FlushAsync();
        }
        return 0;
    }

    public static bool TryParseKind(string name, out BenchServerKind kind)
    {
        kind = name switch
        {
            "pipelines" => BenchServerKind.Pipelines,
            "kestrel" => BenchServerKind.Kestrel,
            "raw" => BenchServerKind.Raw,
            "raw-sendmsg" => BenchServerKind.RawSendmsg,
            "aspnet" => BenchServerKind.AspNet,
            "direct" => BenchServerKind.Direct,
            "floor" => BenchServerKind.Floor,
            _ => (BenchServerKind)(-1),
        };
        return Enum.IsDefined(kind);
    }

    public static string Name(BenchServerKind kind) => kind switch
    {
        BenchServerKind.Pipelines => "pipelines",
        BenchServerKind.Kestrel => "kestrel",
        BenchServerKind.Raw => "raw",
        BenchServerKind.RawSendmsg => "raw-sendmsg",
        BenchServerKind.Direct => "direct",
        BenchServerKind.Floor => "floor",
        _ => "aspnet",
    };

    private static string Stats(IBenchServer server)
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return $"stats {server.Connections} {ResidentBytes()} {GC.GetTotalMemory(forceFullCollection: false)}";
    }

    /// <summary>VmRSS of this process (Linux), or the runtime's working set elsewhere.</summary>
    private static long ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return Environment.WorkingSet;
    }
}
