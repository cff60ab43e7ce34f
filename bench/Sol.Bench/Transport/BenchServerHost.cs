using System.Globalization;
using System.Text;

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
        // On a thread of its own: the loop blocks on standard input for the life of the process.
        await Task.Factory.StartNew(() => Serve(server, sampler), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return 0;
    }

    /// <summary>
    /// The command loop, on bytes: a <c>cpu</c> reading allocates nothing, so the bytes allocated between two readings
    /// are the server's alone. (With text readers and interpolated strings each reading allocated about 200 B, which
    /// showed as 0.5–0.6 B per message in rows of a few hundred messages a second, for every server.)
    /// </summary>
    private static void Serve(IBenchServer server, AllocationSampler? sampler)
    {
        using var input = Console.OpenStandardInput();
        using var output = Console.OpenStandardOutput();
        var commands = new CommandReader(input);
        var answer = new byte[256];
        Write(output, Encoding.ASCII.GetBytes($"listening {server.Port}\n"));
        while (commands.TryReadLine(out var command))
        {
            if (command.SequenceEqual("cpu"u8))
            {
                var micros = (long)Environment.CpuUsage.TotalTime.TotalMicroseconds;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                // Formatted by hand: Utf8.TryWrite's interpolation allocated 48 B a call here.
                "cpu "u8.CopyTo(answer);
                var length = 4;
                micros.TryFormat(answer.AsSpan(length), out var written, default, CultureInfo.InvariantCulture);
                length += written;
                answer[length++] = (byte)' ';
                allocated.TryFormat(answer.AsSpan(length), out written, default, CultureInfo.InvariantCulture);
                length += written;
                answer[length++] = (byte)'\n';
                Write(output, answer.AsSpan(0, length));
                continue;
            }
            var text = Encoding.UTF8.GetString(command) switch
            {
                "conns" => $"conns {server.Connections}",
                "stats" => Stats(server),
                "alloc-top" => $"alloc-top {sampler?.TakeTop(6) ?? "-"}",
                var other => $"error unknown command {other}",
            };
            Write(output, Encoding.UTF8.GetBytes(text + "\n"));
        }
    }

    private static void Write(Stream output, ReadOnlySpan<byte> line)
    {
        output.Write(line);
        output.Flush();
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

    /// <summary>
    /// Lines from a stream into one reused buffer. Commands are short: of a line longer than the buffer (1 KiB) only the
    /// tail after the last full buffer is kept (and answered as an unknown command). A last line without a newline is
    /// still read.
    /// </summary>
    private sealed class CommandReader(Stream input)
    {
        private readonly byte[] _buffer = new byte[1024];
        private int _start;
        private int _end;

        public bool TryReadLine(out ReadOnlySpan<byte> line)
        {
            while (true)
            {
                var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    line = _buffer.AsSpan(_start, newline).TrimEnd((byte)'\r');
                    _start += newline + 1;
                    return true;
                }
                if (_start > 0)
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length)
                {
                    _end = 0; // a line longer than the buffer: what was read of it so far is dropped
                }
                var read = input.Read(_buffer, _end, _buffer.Length - _end);
                if (read == 0)
                {
                    line = _buffer.AsSpan(0, _end).TrimEnd((byte)'\r'); // the end of input ends the last line too
                    _end = 0;
                    return !line.IsEmpty;
                }
                _end += read;
            }
        }
    }
}
