using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Progress;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Bench.Progress;

/// <summary>
/// The write-behind flush, end to end (not a BenchmarkDotNet benchmark: it measures a tick distribution while a flush
/// runs beside it). <c>dotnet run -c Release --project bench/Sol.Bench -- flush [POSTGRES_CONNECTION_STRING] [--rounds N]
/// [--window SECONDS] [--ships N] [--real-time-only]</c>.
/// Part 1: flush 10,000 changed players into each store (batch time, rows/s; median of 5). Part 2: tick duration
/// p50/p99 of a busy world (2,000 ships by default, in 50 awake zones, 2 workers) stepped back to back (windows of at most 5 s), and part 3: the same world
/// on the scheduler's real-time loop (20 Hz, pinned workers). In each round, three windows of the same length one
/// after the other: no flush (the baseline), the flush as one transaction of 10,000 players started at any time
/// ("unpaced"), and the flush as the server runs it: chunks of 500 players, each started right after a tick completed
/// (<see cref="TickPacer"/>, "paced"). Each flush window is compared with its round's baseline; the summary gives the
/// median ratio over the rounds.
/// </summary>
public static class FlushBench
{
    private const int Players = 10_000;

    private const string NoFlushAgain = "none again (A/A: the measurement's own spread)";

    public static async Task<int> RunAsync(string[] args)
    {
        string? postgres = null;
        var rounds = 3;
        var window = TimeSpan.FromSeconds(15);
        var ships = 2000;
        var backToBackPart = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds" when i + 1 < args.Length:
                    rounds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--ships" when i + 1 < args.Length:
                    ships = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--real-time-only":
                    backToBackPart = false;
                    break;
                case "--window" when i + 1 < args.Length:
                    window = TimeSpan.FromSeconds(double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    postgres = args[i];
                    break;
            }
        }
        var galaxy = GalaxyGenerator.Generate("bench", GalaxyParameters.Default(200, 7));
        var folder = Directory.CreateTempSubdirectory("sol-flush-bench-").FullName;
        var writers = new List<PlayerWriteBehind>();
        try
        {
            var stores = new List<(string Name, ISolStore Store)> { ("sqlite", await SolStore.OpenAsync(Path.Combine(folder, "sol.db"))) };
            if (postgres is not null)
            {
                stores.Add(("postgresql", await SolStore.OpenAsync(postgres)));
            }

            Console.WriteLine("| store | players per flush | flush median (ms) | rows/s |");
            Console.WriteLine("|---|---:|---:|---:|");
            var pacer = new TickPacer(20);
            var variants = new List<(string Store, string Mode, Func<Task>? Flush)>();
            foreach (var (name, store) in stores)
            {
                var galaxyId = (await store.SaveGalaxyAsync(galaxy, replace: true)).Id;
                var players = Enumerable.Range(0, Players).Select(i => Player(galaxyId, i)).ToArray();
                await store.SavePlayersAsync(players);
                var version = 1L;
                var times = new List<double>();
                for (var round = 0; round < 5; round++)
                {
                    version++;
                    var changed = players.Select(p => p with { Version = version, X = p.X + version }).ToArray();
                    var clock = Stopwatch.StartNew();
                    await store.SavePlayersAsync(changed);
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"| {name} | {Players:N0} | {times[2]:F0} | {Players / (times[2] / 1000):N0} |");

                // Unpaced: the whole flush in one transaction, started whenever (the write-behind before pacing).
                // Paced: what the server runs (500 players a chunk, each chunk right after a tick).
                var unpaced = new PlayerWriteBehind(store, TimeSpan.FromHours(1), NullLogger.Instance, pacer: null, chunkPlayers: Players);
                var paced = new PlayerWriteBehind(store, TimeSpan.FromHours(1), NullLogger.Instance, pacer);
                writers.Add(unpaced);
                writers.Add(paced);
                // A second window without a flush, compared like the others: how far p99 moves by itself (A/A).
                variants.Add((name, NoFlushAgain, null));
                foreach (var (mode, writer) in new[] { ("unpaced (one transaction)", unpaced), ("paced (500 a chunk, after a tick)", paced) })
                {
                    variants.Add((name, mode, async () =>
                    {
                        var v = Interlocked.Increment(ref version);
                        foreach (var p in players)
                        {
                            writer.Stage(p with { Version = v, X = p.X + v });
                        }
                        await writer.FlushAsync();
                    }));
                }
            }

            var observer = new PacerObserver(pacer);
            var windows = new List<Window>();
            var load = $"{ships:N0} ships, 50 zones, 2 workers";
            Console.WriteLine();
            Console.WriteLine($"Tick load: {load}.");
            if (backToBackPart)
            {
                await BackToBackAsync(galaxy, ships, window, stores.Select(st => st.Name), rounds, variants, observer, windows);
            }
            Console.WriteLine();
            Console.WriteLine($"Part 3, real time at 20 Hz ({window.TotalSeconds:0} s windows; a flush of {Players:N0} players every second in the flush windows):");
            Console.WriteLine();
            Console.WriteLine("| round | flush beside it | worker ticks | tick p50 (ms) | tick p99 (ms) | p99 vs no flush |");
            Console.WriteLine("|---:|---|---:|---:|---:|---:|");
            await RoundsAsync("real time", stores.Select(st => st.Name), rounds, variants, flush => MeasureRealTimeAsync(galaxy, ships, window, flush, observer), windows);
            Console.WriteLine();
            Console.WriteLine($"Summary: tick p99 with the flush / without. Per round: median (min-max) over {rounds} rounds, each flush window");
            Console.WriteLine("against the baseline window right before it. Pooled: p99 of all the flush windows' ticks against p99 of all the");
            Console.WriteLine("baseline windows' ticks of the same part and store (more ticks, so less noise than one window's p99). Goal at most 1.10.");
            Console.WriteLine();
            Console.WriteLine("| part | store | flush | per round: median | (min-max) | pooled p99 (ms): baseline / with flush | pooled ratio |");
            Console.WriteLine("|---|---|---|---:|---:|---:|---:|");
            foreach (var group in windows.Where(w => w.Mode != "none").GroupBy(w => (w.Part, w.Store, w.Mode)))
            {
                var sorted = group.Select(w => w.Ratio).Order().ToList();
                var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
                var baseline = Pooled(windows.Where(w => w.Part == group.Key.Part && w.Store == group.Key.Store && w.Mode == "none"));
                var with = Pooled(group);
                Console.WriteLine(
                    $"| {group.Key.Part} | {group.Key.Store} | {group.Key.Mode} | {median:F2} | {sorted[0]:F2}-{sorted[^1]:F2} | " +
                    $"{P(baseline, 0.99):F3} / {P(with, 0.99):F3} | {P(with, 0.99) / P(baseline, 0.99):F2} |");
            }
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
            writers.Clear();
            foreach (var (_, store) in stores)
            {
                await store.DisposeAsync();
            }
            return 0;
        }
        finally
        {
            foreach (var writer in writers)
            {
                await writer.DisposeAsync();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Per store and round: a baseline window, then one window per variant of that store, each printed as a row and kept
    /// (with its p99 over the round's baseline) for the summary.
    /// </summary>
    private static async Task RoundsAsync(
        string part, IEnumerable<string> stores, int rounds, List<(string Store, string Mode, Func<Task>? Flush)> variants,
        Func<Func<Task>?, Task<List<double>>> measure, List<Window> windows)
    {
        foreach (var store in stores)
        {
            for (var round = 1; round <= rounds; round++)
            {
                var baseline = await measure(null);
                windows.Add(new Window(part, store, "none", baseline));
                Console.WriteLine($"| {round} | none | {baseline.Count} | {P(baseline, 0.5):F3} | {P(baseline, 0.99):F3} | 1.00 |");
                foreach (var (storeName, mode, flush) in variants.Where(v => v.Store == store))
                {
                    var with = await measure(flush);
                    var ratio = P(with, 0.99) / P(baseline, 0.99);
                    windows.Add(new Window(part, storeName, mode, with, ratio));
                    Console.WriteLine($"| {round} | {storeName}, {mode} | {with.Count} | {P(with, 0.5):F3} | {P(with, 0.99):F3} | {ratio:F2} |");
                }
            }
        }
    }

    /// <summary>Part 2: the world stepped back to back, windows of at most 5 s.</summary>
    private static async Task BackToBackAsync(
        GalaxyModel galaxy, int ships, TimeSpan window, IEnumerable<string> stores, int rounds,
        List<(string Store, string Mode, Func<Task>? Flush)> variants, IZoneStepObserver observer,
        List<Window> windows)
    {
        // Back to back, a few seconds give tens of thousands of ticks; the real-time windows need the length.
        var backToBack = TimeSpan.FromSeconds(Math.Min(window.TotalSeconds, 5));
        Console.WriteLine();
        Console.WriteLine($"Part 2, back to back ({backToBack.TotalSeconds:0} s windows; flushes run continuously beside the flush windows):");
        Console.WriteLine();
        Console.WriteLine("| round | flush beside it | ticks | tick p50 (ms) | tick p99 (ms) | p99 vs no flush |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");
        using var scheduler = new ZoneScheduler(BusyWorld(galaxy, ships), new SchedulerOptions { Workers = 2, PinThreads = false, Observer = observer });
        scheduler.RunTicks(400); // warm up
        await RoundsAsync("back to back", stores, rounds, variants, flush => Task.FromResult(MeasureTicks(scheduler, backToBack, flush)), windows);
    }

    /// <summary>
    /// The scheduler's own real-time loop at 20 Hz for <paramref name="window"/>, its per-worker tick durations read
    /// from its meter; with <paramref name="flush"/>, one flush of 10,000 players every second (five times the default
    /// rate) runs beside it.
    /// </summary>
    private static async Task<List<double>> MeasureRealTimeAsync(GalaxyModel galaxy, int ships, TimeSpan window, Func<Task>? flush, IZoneStepObserver observer)
    {
        var world = BusyWorld(galaxy, ships);
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = true, Observer = observer });
        var durations = new List<double>();
        var recording = false;
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, scheduler.Meter) && instrument.Name == "sol.zones.worker.tick.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, ms, _, _) =>
        {
            if (Volatile.Read(ref recording))
            {
                lock (durations)
                {
                    durations.Add(ms);
                }
            }
        });
        listener.Start();
        scheduler.Start();
        await Task.Delay(TimeSpan.FromSeconds(2)); // warm up
        Volatile.Write(ref recording, true);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window)
        {
            if (flush is not null)
            {
                var started = clock.Elapsed;
                await flush();
                var rest = TimeSpan.FromSeconds(1) - (clock.Elapsed - started);
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest);
                }
            }
            else
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
        Volatile.Write(ref recording, false);
        scheduler.Stop();
        lock (durations)
        {
            durations.Sort();
            return [.. durations];
        }
    }

    private static List<double> MeasureTicks(ZoneScheduler scheduler, TimeSpan window, Func<Task>? flush)
    {
        using var stop = new CancellationTokenSource();
        var flushes = 0;
        var background = flush is null ? Task.CompletedTask : Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await flush();
                flushes++;
            }
        });
        var durations = new List<double>(50_000);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window)
        {
            var start = Stopwatch.GetTimestamp();
            scheduler.StepOnce();
            durations.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        stop.Cancel();
        background.GetAwaiter().GetResult();
        if (flush is not null)
        {
            Console.Error.WriteLine($"  ({flushes} flushes ran during {durations.Count} ticks)");
        }
        durations.Sort();
        return durations;
    }

    private static List<double> Pooled(IEnumerable<Window> windows)
    {
        var all = windows.SelectMany(w => w.Ticks).ToList();
        all.Sort();
        return all;
    }

    private static double P(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static ZoneWorld BusyWorld(GalaxyModel galaxy, int ships)
    {
        var world = new ZoneWorld(galaxy, new ZoneOptions { TickRate = 20, NpcsPerSystem = 3 });
        for (var owner = 1; owner <= ships; owner++)
        {
            var system = 1 + (owner % 50);
            world.SpawnShip(owner, ZoneId.ForSystem(system), 0, 3000 + (owner % 40) * 10, owner % 37 * 10);
        }
        return world;
    }

    private static PlayerRecord Player(Guid galaxyId, int i) => new()
    {
        Id = Guid.NewGuid(),
        AccountId = Guid.NewGuid(),
        GalaxyId = galaxyId,
        Zone = ZoneId.ForSystem(1 + (i % 200)),
        X = i,
        Y = -i,
        Credits = 1000,
        ShipType = "scout",
        Hull = 100,
        HomeSystemId = 1,
        Version = 1,
        UpdatedAt = DateTimeOffset.UtcNow,
        Explored = [1, 2, 3],
        Inventory = [new InventoryItem("ore", i), new InventoryItem("water", 3)],
    };

    /// <summary>Tells the pacer about each completed tick, as the game hub does in the server.</summary>
    private sealed class PacerObserver(TickPacer pacer) : IZoneStepObserver
    {
        public void OnZoneStepped(Zone zone)
        {
        }

        public void OnTickCompleted(long tick) => pacer.OnTickCompleted();
    }

    /// <summary>One measured window: its sorted tick durations, and its p99 over its round's baseline (1 for a baseline).</summary>
    private sealed record Window(string Part, string Store, string Mode, List<double> Ticks, double Ratio = 1);
}
