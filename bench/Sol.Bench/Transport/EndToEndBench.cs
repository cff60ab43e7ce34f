using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Sol.Bench.Transport;

/// <summary>
/// End to end on loopback, every server in one run: <c>dotnet run -c Release --project bench/Sol.Bench --
/// transport-e2e [--quick] [options]</c> (options: <see cref="EndToEndOptions"/>; the script is
/// <c>bench/transport-e2e.sh</c>). Each server runs in a child process (<see cref="BenchServerProcess"/>), whose own
/// CPU time and allocations are read before and after each measured window; the clients are cheap raw sockets in
/// this process (<see cref="RawWebSocketClient"/>). Rows: echo (100 connections, 20 B, flat out), broadcast fan-out
/// (16/256/2,000 subscribers x 200 B/2 KiB, at 20 Hz and flat out), and memory per idle connection (10,000 idle
/// connections, server RSS and managed heap growth divided by the count, one fresh server process at a time; not for
/// the references). The servers run side by side and every scenario runs on each of them back to back. Two servers are
/// references, not products: <see cref="BenchServerKind.Direct"/> (<see cref="DirectBenchServer"/>, .NET) and
/// <see cref="BenchServerKind.Floor"/> (bench/floor/floor-server.c, C); each one's ratio to ASP.NET Core is printed in
/// a column and a summary line of its own. Prints markdown tables on standard output, progress on standard error.
/// </summary>
public static class EndToEndBench
{
    /// <summary>Servers that are references, not products: their ratios get columns and summary lines of their own.</summary>
    private static readonly BenchServerKind[] s_references = [BenchServerKind.Direct, BenchServerKind.Floor];

    public static async Task<int> RunAsync(string[] args)
    {
        EndToEndOptions options;
        try
        {
            options = EndToEndOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"transport-e2e: {e.Message}");
            return 2;
        }
        var clock = Stopwatch.StartNew();
        var rows = new List<EndToEndRow>();
        var memory = new List<IdleMemoryRow>();
        // All servers run side by side and each scenario runs on every server back to back, so that the rows compared
        // with each other are seconds apart on this shared machine, not minutes.
        if (options.Servers.Contains(BenchServerKind.Floor) && BenchServerProcess.FloorServerMissing() is { } missing)
        {
            await Console.Error.WriteLineAsync($"transport-e2e: cannot start floor: {missing}");
            return 1;
        }
        var processes = new List<(BenchServerKind Server, BenchServerProcess Process)>();
        try
        {
            foreach (var server in options.Servers)
            {
                BenchServerProcess process;
                try
                {
                    process = await BenchServerProcess.StartAsync(server, options.AllocationTypes);
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    await Console.Error.WriteLineAsync($"transport-e2e: cannot start {BenchServerHost.Name(server)}: {e.Message}");
                    return 1;
                }
                processes.Add((server, process));
                await WarmUpAsync(process, server, options);
            }
            if (options.EchoClients > 0)
            {
                await AddScenarioAsync(rows, processes.Count, options.Rounds,
                    i => EchoAsync(processes[i].Process, processes[i].Server, options));
            }
            foreach (var clients in options.Clients)
            {
                var loads = new List<BroadcastLoad>();
                try
                {
                    foreach (var (server, process) in processes)
                    {
                        loads.Add(await BroadcastLoad.ConnectAsync(process.Endpoint, clients));
                        if (!await process.WaitForConnectionsAsync(clients + 1, TimeSpan.FromSeconds(30)))
                        {
                            throw new InvalidOperationException($"the {server} server never counted {clients + 1} connections");
                        }
                    }
                    foreach (var size in options.Sizes)
                    {
                        foreach (var rate in options.Rates)
                        {
                            await AddScenarioAsync(rows, processes.Count, options.Rounds,
                                i => FanOutAsync(processes[i].Process, processes[i].Server, loads[i], size, rate, options));
                        }
                    }
                }
                finally
                {
                    foreach (var load in loads)
                    {
                        await load.DisposeAsync();
                    }
                }
            }
        }
        finally
        {
            foreach (var (_, process) in processes)
            {
                await process.DisposeAsync();
            }
        }
        // The references are not measured here: direct's memory per connection is the buffer size it was given, a choice
        // rather than a floor, and floor is for CPU per message only; an idle raw connection is the same with and without
        // batched sends.
        foreach (var server in options.Servers.Where(s => s is not (BenchServerKind.Direct or BenchServerKind.Floor or BenchServerKind.RawSendmsg)))
        {
            if (options.IdleConnections > 0)
            {
                await using var process = await BenchServerProcess.StartAsync(server);
                var row = await IdleAsync(process, server, options.IdleConnections);
                await Console.Error.WriteLineAsync(
                    $"  idle x {row.Connections:N0} on {Name(server)}: {row.ResidentPerConnection / 1024:F2} KiB RSS, " +
                    $"{row.HeapPerConnection / 1024:F2} KiB heap per connection {row.Note}");
                memory.Add(row);
            }
        }
        Print(rows, memory, options, clock.Elapsed);
        return rows.Any(r => r.Error is not null) ? 1 : 0;
    }

    /// <summary>
    /// Runs one scenario <paramref name="rounds"/> times on every server, the servers in turn within each round, and
    /// keeps per server the round with the median messages per server CPU second (with the spread of all rounds).
    /// </summary>
    private static async Task AddScenarioAsync(List<EndToEndRow> rows, int servers, int rounds,
        Func<int, Task<EndToEndRow>> run)
    {
        var results = Enumerable.Range(0, servers).Select(_ => new List<EndToEndRow>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < servers; i++)
            {
                results[i].Add(Report(await run(i)));
            }
        }
        foreach (var measured in results)
        {
            var failed = measured.FirstOrDefault(r => r.Error is not null);
            if (failed is not null)
            {
                rows.Add(failed);
                continue;
            }
            var ordered = measured.OrderBy(r => r.MessagesPerCpuSecond).ToList();
            rows.Add(ordered[ordered.Count / 2] with
            {
                Rounds = ordered.Count,
                MinPerCpuSecond = ordered[0].MessagesPerCpuSecond,
                MaxPerCpuSecond = ordered[^1].MessagesPerCpuSecond,
            });
        }
    }

    /// <summary>Opens <paramref name="count"/> upgraded connections, 64 handshakes at a time.</summary>
    public static async Task<RawWebSocketClient[]> ConnectAsync(IPEndPoint server, string pathAndQuery, int count,
        int bufferSize)
    {
        var clients = new RawWebSocketClient?[count];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = deadline.Token };
            await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (i, cancellationToken) =>
                clients[i] = await RawWebSocketClient.ConnectAsync(server, pathAndQuery, bufferSize, cancellationToken));
        }
        catch
        {
            foreach (var client in clients)
            {
                client?.Dispose();
            }
            throw;
        }
        return clients!;
    }

    /// <summary>
    /// Runs echo and flat-out fan-out once, unmeasured, so that the rows that follow see code the JIT has finished
    /// tiering up (a 20 Hz row uses little CPU, so a background compilation would dominate it).
    /// </summary>
    private static async Task WarmUpAsync(BenchServerProcess process, BenchServerKind server, EndToEndOptions options)
    {
        var warmup = options with { Warmup = options.Warmup * 2, Duration = TimeSpan.FromMilliseconds(100) };
        if (options.EchoClients > 0)
        {
            await EchoAsync(process, server, warmup);
        }
        await using var load = await BroadcastLoad.ConnectAsync(process.Endpoint, 64);
        await process.WaitForConnectionsAsync(65, TimeSpan.FromSeconds(30));
        foreach (var size in options.Sizes)
        {
            await FanOutAsync(process, server, load, size, 0, warmup);
        }
    }

    private static async Task<EndToEndRow> EchoAsync(BenchServerProcess process, BenchServerKind server,
        EndToEndOptions options)
    {
        var scenario = $"echo {options.EchoClients} x {options.EchoPayload} B" +
            (options.EchoWindow > 1 ? $" ({options.EchoWindow} in flight)" : "");
        await using var load = await EchoLoad.StartAsync(process.Endpoint, options.EchoClients, options.EchoPayload,
            options.EchoWindow);
        await Task.Delay(options.Warmup);
        return await MeasureAsync(scenario, server, process, () => load.Delivered, options.Duration,
            options.AllocationTypes);
    }

    private static async Task<EndToEndRow> FanOutAsync(BenchServerProcess process, BenchServerKind server,
        BroadcastLoad load, int size, double rate, EndToEndOptions options)
    {
        var scenario = $"fan-out {load.Clients:N0} x {Size(size)} {(rate > 0 ? $"@ {rate:0.#} Hz" : "flat out")}" +
            (options.Burst > 1 ? $", {options.Burst} per publish" : "");
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(() => load.PublishAsync(size, options.Burst, rate, options.Window, stop.Token));
        await Task.Delay(options.Warmup);
        var row = await MeasureAsync(scenario, server, process, () => load.Delivered, options.Duration,
            options.AllocationTypes);
        await stop.CancelAsync();
        try
        {
            await publishing;
        }
        catch (Exception e) when (e is TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            return row with { Error = e.Message };
        }
        return await load.DrainAsync() ? row : row with { Error = "not every broadcast was delivered" };
    }

    private static async Task<EndToEndRow> MeasureAsync(string scenario, BenchServerKind server,
        BenchServerProcess process, Func<long> delivered, TimeSpan duration, bool sampleTypes)
    {
        if (sampleTypes)
        {
            await process.AllocationTypesAsync();
        }
        var (cpuBefore, allocatedBefore) = await process.CpuAsync();
        var before = delivered();
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        var (cpuAfter, allocatedAfter) = await process.CpuAsync();
        var after = delivered();
        var types = sampleTypes ? await process.AllocationTypesAsync() : null;
        return new EndToEndRow(scenario, server, clock.Elapsed.TotalSeconds, after - before, cpuAfter - cpuBefore,
            allocatedAfter - allocatedBefore) { AllocationTypes = types };
    }

    private static async Task<IdleMemoryRow> IdleAsync(BenchServerProcess process, BenchServerKind server, int target)
    {
        // Warm the accept path first, so that code and pools it touches once are not charged to the connections.
        foreach (var client in await ConnectAsync(process.Endpoint, "/ws?role=idle", 200, 1024))
        {
            client.Dispose();
        }
        await process.WaitForConnectionsAsync(0, TimeSpan.FromSeconds(30));
        var before = await process.StatsAsync();
        var clients = new List<RawWebSocketClient>(target);
        string? note = null;
        try
        {
            while (clients.Count < target)
            {
                clients.AddRange(await ConnectAsync(process.Endpoint, "/ws?role=idle", Math.Min(500, target - clients.Count), 1024));
            }
        }
        catch (Exception e)
        {
            note = $"stopped at {clients.Count:N0} connections: {e.GetType().Name}: {e.Message}";
        }
        try
        {
            if (!await process.WaitForConnectionsAsync(clients.Count, TimeSpan.FromSeconds(30)))
            {
                note = (note is null ? "" : note + "; ") + "the server never counted them all";
            }
            var after = await process.StatsAsync();
            var count = Math.Max(1, clients.Count);
            return new IdleMemoryRow(server, clients.Count, (double)(after.Resident - before.Resident) / count,
                (double)(after.Heap - before.Heap) / count, note);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static EndToEndRow Report(EndToEndRow row)
    {
        Console.Error.WriteLine(row.Error is null
            ? $"  {row.Scenario} on {Name(row.Server)}: {row.MessagesPerSecond:N0} msgs/s, {row.CpuMicrosecondsPerMessage:F2} us/msg"
            : $"  {row.Scenario} on {Name(row.Server)}: FAILED {row.Error}");
        if (row.AllocationTypes is { } types)
        {
            Console.Error.WriteLine($"    allocated most (sampled): {types.Replace(";", ", ", StringComparison.Ordinal)}");
        }
        return row;
    }

    private static void Print(List<EndToEndRow> rows, List<IdleMemoryRow> memory, EndToEndOptions options,
        TimeSpan elapsed)
    {
        var output = Console.Out;
        var references = s_references.Where(k => rows.Any(r => r.Server == k)).ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Each row: the median of {options.Rounds} rounds (the servers take turns within a round), each measured for " +
            $"{options.Duration.TotalSeconds:0.##} s after {options.Warmup.TotalSeconds:0.##} s of warm-up; " +
            $"flat-out fan-out keeps {options.Window} broadcasts in flight; whole run {elapsed.TotalSeconds:F0} s."));
        if (references.Contains(BenchServerKind.Direct))
        {
            output.WriteLine();
            output.WriteLine(
                $"{Name(BenchServerKind.Direct)} (`direct`) is a reference row, not a product and not a full WebSocket " +
                "server: plain System.Net.Sockets, each message framed once (in place, in its receive buffer) and sent with " +
                "blocking `Socket.Send` to every receiver in turn on the thread that read it. No queue, no pipe, no thread " +
                "hop, no coalescing, no backpressure (a slow subscriber would stall the publisher and every other subscriber), " +
                "no idle timeouts, no UTF-8 validation. It shows about the least server CPU per message when every message " +
                "is its own `send` system call, so at a rate (each broadcast goes out alone, nothing waits to be coalesced) " +
                "its column \"direct / ASP.NET\" is about the highest ratio to ASP.NET Core that a .NET server making one " +
                "`send` system call per message could reach in this run. Flat out it is no ceiling: the other servers queue " +
                "broadcasts per connection and write what has piled up with one `send`, which the reference by design " +
                "does not. \"ours / ASP.NET\" is Sol.Transport's alone.");
        }
        if (references.Contains(BenchServerKind.Floor))
        {
            output.WriteLine();
            output.WriteLine(
                $"{Name(BenchServerKind.Floor)} (`floor`, bench/floor/floor-server.c) is a reference row, not a product and " +
                "not .NET: one C thread on epoll; each broadcast is unmasked and framed once and sent to every subscriber " +
                "with a single io_uring submission (one `IORING_OP_SEND` per subscriber, all pointing at the same bytes). " +
                "No queue, no backpressure, no timeouts, no allocation, no UTF-8 checks. At a rate with many subscribers " +
                "(one message per subscriber per broadcast, nothing to coalesce) most of what it spends is the kernel's " +
                "cost of one TCP send per subscriber (on loopback, with the clients' receive path and the waking of their " +
                "readers), so a server at or near its column \"floor / ASP.NET\" has little left to gain on that row. " +
                "It is a measured sample, not a proven bound, and with few subscribers the fixed cost of each broadcast " +
                "weighs more. Flat out it does not coalesce and is no ceiling; its echo row is the same C program " +
                "echoing, a reference there too.");
        }
        output.WriteLine();
        const string Header = "| scenario | server | msgs/s delivered | server CPU (s) | server CPU µs/msg | msgs per server CPU s | (min–max of rounds) | server alloc B/msg | ours/ASP.NET (msgs per CPU s) |";
        const string Rule = "|---|---|---:|---:|---:|---:|---:|---:|---:|";
        output.WriteLine(Header + string.Concat(references.Select(k => $" {BenchServerHost.Name(k)} / ASP.NET (msgs per CPU s) |")));
        output.WriteLine(Rule + string.Concat(references.Select(_ => "---:|")));
        var referenceCells = string.Concat(references.Select(_ => " |"));
        var ratios = new List<(string Scenario, BenchServerKind Server, double Ratio)>();
        foreach (var scenario in rows.Select(r => r.Scenario).Distinct())
        {
            var baseline = rows.FirstOrDefault(r => r.Scenario == scenario && r.Server == BenchServerKind.AspNet && r.Error is null);
            foreach (var row in rows.Where(r => r.Scenario == scenario))
            {
                if (row.Error is not null)
                {
                    output.WriteLine($"| {scenario} | {Name(row.Server)} | failed: {row.Error} | | | | | | |{referenceCells}");
                    continue;
                }
                var ours = "";
                var referenceRatios = references.Select(_ => "").ToArray();
                if (row.Server != BenchServerKind.AspNet && baseline is not null)
                {
                    var value = row.MessagesPerCpuSecond / baseline.MessagesPerCpuSecond;
                    ratios.Add((scenario, row.Server, value));
                    var ratio = string.Create(CultureInfo.InvariantCulture, $"{value:F2}x");
                    if (references.IndexOf(row.Server) is var column and >= 0)
                    {
                        referenceRatios[column] = ratio;
                    }
                    else
                    {
                        ours = ratio;
                    }
                }
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {scenario} | {Name(row.Server)} | {row.MessagesPerSecond:N0} | {row.ServerCpu.TotalSeconds:F3} | " +
                    $"{row.CpuMicrosecondsPerMessage:F2} | {row.MessagesPerCpuSecond:N0} | {row.MinPerCpuSecond:N0}–{row.MaxPerCpuSecond:N0} | " +
                    $"{row.AllocatedPerMessage:F1} | {ours} |{string.Concat(referenceRatios.Select(r => $" {r} |"))}"));
            }
        }
        foreach (var server in ratios.Select(r => r.Server).Distinct())
        {
            var fanOut = ratios.Where(r => r.Server == server && r.Scenario.StartsWith("fan-out", StringComparison.Ordinal))
                .ToList();
            if (fanOut.Count == 0)
            {
                continue;
            }
            output.WriteLine();
            if (!s_references.Contains(server))
            {
                output.WriteLine($"Fan-out, {Name(server)} / ASP.NET Core in msgs per server CPU second: {Spread(fanOut.ConvertAll(r => r.Ratio))} (goal: at least 2x).");
                continue;
            }
            var paced = fanOut.Where(r => r.Scenario.Contains(" Hz", StringComparison.Ordinal)).ToList();
            if (server == BenchServerKind.Floor)
            {
                output.WriteLine(
                    $"Fan-out, reference (floor: C, one io_uring submission per broadcast) / ASP.NET Core in msgs per server CPU second: {Spread(fanOut.ConvertAll(r => r.Ratio))}" +
                    (paced.Count > 0 ? $"; at a rate alone: {Spread(paced.ConvertAll(r => r.Ratio))}" : "") +
                    ". At a rate with many subscribers a server at or near this has little left to gain (a reference, " +
                    "not a goal and not a proven bound); flat out it does not coalesce and is no ceiling.");
                continue;
            }
            output.WriteLine(
                $"Fan-out, reference (direct socket sends) / ASP.NET Core in msgs per server CPU second: {Spread(fanOut.ConvertAll(r => r.Ratio))}" +
                (paced.Count > 0 ? $"; at a rate alone: {Spread(paced.ConvertAll(r => r.Ratio))}" : "") +
                ". At a rate this is about the highest ratio a .NET server making one `send` system call per message could " +
                "reach in this run (a reference, not a goal); flat out the reference does not coalesce and is no ceiling.");
        }
        if (memory.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("| server | idle connections | server RSS growth per connection | managed heap growth per connection | note |");
            output.WriteLine("|---|---:|---:|---:|---|");
            foreach (var row in memory)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Name(row.Server)} | {row.Connections:N0} | {row.ResidentPerConnection / 1024:F2} KiB | " +
                    $"{row.HeapPerConnection / 1024:F2} KiB | {row.Note} |"));
            }
            output.WriteLine();
            output.WriteLine("Goal: under 8 KiB per idle connection.");
            if (options.Servers.Contains(BenchServerKind.Direct))
            {
                output.WriteLine();
                output.WriteLine($"{Name(BenchServerKind.Direct)} is not in this table: its memory per connection is the " +
                    $"receive buffer it was given ({DirectConnection.BufferSize / 1024} KiB), a choice rather than a floor, so it is not measured.");
            }
            if (options.Servers.Contains(BenchServerKind.Floor))
            {
                output.WriteLine();
                output.WriteLine($"{Name(BenchServerKind.Floor)} is not in this table: it is a reference for CPU per message only.");
            }
        }
    }

    /// <summary>
    /// Min, median (the mean of the middle two for an even count), geometric mean and max of the ratios, and how many
    /// rows are at 2x or more, as the summary lines print them.
    /// </summary>
    private static string Spread(IReadOnlyCollection<double> ratios)
    {
        var ordered = ratios.Order().ToList();
        var median = (ordered[(ordered.Count - 1) / 2] + ordered[ordered.Count / 2]) / 2;
        var geometric = Math.Exp(ordered.Average(Math.Log));
        var twice = ordered.Count(r => r >= 2);
        return string.Create(CultureInfo.InvariantCulture,
            $"min {ordered[0]:F2}x, median {median:F2}x, geometric mean {geometric:F2}x, max {ordered[^1]:F2}x over " +
            $"{ordered.Count} rows, {twice} of them at 2x or more");
    }

    private static string Name(BenchServerKind server) => server switch
    {
        BenchServerKind.Pipelines => "Sol.Transport (Pipelines sockets)",
        BenchServerKind.Kestrel => "Sol.Transport (Kestrel sockets)",
        BenchServerKind.Raw => "Sol.Transport (raw sockets)",
        BenchServerKind.RawSendmsg => "Sol.Transport (raw sockets, sendmsg per flush)",
        BenchServerKind.Direct => "Reference: direct socket sends",
        BenchServerKind.Floor => "Reference: floor (C, io_uring)",
        _ => "ASP.NET Core WebSockets",
    };

    private static string Size(int bytes) => bytes % 1024 == 0 ? $"{bytes / 1024} KiB" : $"{bytes} B";
}
