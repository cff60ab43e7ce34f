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
/// runs beside it). <c>dotnet run -c Release --project bench/Sol.Bench -- flush [POSTGRES_CONNECTION_STRING]</c>.
/// Part 1: flush 10,000 changed players into each store (batch time, rows/s; median of 5). Part 2: tick duration
/// p50/p99 of a busy world (2,000 ships in 50 awake zones, 2 workers, stepped back to back for 4 s) with no flush,
/// and with flushes of 10,000 players running continuously beside it; each run is compared with a baseline window
/// taken right before it. Part 3: the same world on the scheduler's real-time loop (20 Hz, pinned workers), its
/// per-worker tick durations with no flush, and with a flush of 10,000 players every second.
/// </summary>
public static class FlushBench
{
    private const int Players = 10_000;

    /// <summary>How long each tick distribution is sampled (ticks stepped back to back).</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(4);

    /// <summary>How long each real-time (20 Hz) tick distribution is sampled.</summary>
    private static readonly TimeSpan RealTimeWindow = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var postgres = args.Length > 0 ? args[0] : null;
        var galaxy = GalaxyGenerator.Generate("bench", GalaxyParameters.Default(200, 7));
        var folder = Directory.CreateTempSubdirectory("sol-flush-bench-").FullName;
        try
        {
            var stores = new List<(string Name, ISolStore Store)> { ("sqlite", await SolStore.OpenAsync(Path.Combine(folder, "sol.db"))) };
            if (postgres is not null)
            {
                stores.Add(("postgresql", await SolStore.OpenAsync(postgres)));
            }

            Console.WriteLine("| store | players per flush | flush median (ms) | rows/s |");
            Console.WriteLine("|---|---:|---:|---:|");
            var batches = new Dictionary<string, Func<Task>>();
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

                var writer = new PlayerWriteBehind(store, TimeSpan.FromHours(1), NullLogger.Instance);
                batches[name] = async () =>
                {
                    version++;
                    foreach (var p in players)
                    {
                        writer.Stage(p with { Version = version, X = p.X + version });
                    }
                    await writer.FlushAsync();
                };
            }

            Console.WriteLine();
            Console.WriteLine("| tick load | flush beside it | ticks | tick p50 (ms) | tick p99 (ms) | p99 vs no flush |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|");
            var world = BusyWorld(galaxy);
            using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = false });
            scheduler.RunTicks(400); // warm up
            // Alternating windows of the same length, each baseline right before the run it is compared with.
            foreach (var (name, flush) in batches)
            {
                var baseline = MeasureTicks(scheduler, Window, null);
                Console.WriteLine($"| 2,000 ships, 50 zones, 2 workers | none | {baseline.Count} | {P(baseline, 0.5):F3} | {P(baseline, 0.99):F3} | 1.00 |");
                var withFlush = MeasureTicks(scheduler, Window, flush);
                Console.WriteLine($"| 2,000 ships, 50 zones, 2 workers | {name}, {Players:N0} players, back to back | {withFlush.Count} | {P(withFlush, 0.5):F3} | {P(withFlush, 0.99):F3} | {P(withFlush, 0.99) / P(baseline, 0.99):F2} |");
            }
            Console.WriteLine();
            Console.WriteLine("| tick load (real time, 20 Hz) | flush beside it | worker ticks | tick p50 (ms) | tick p99 (ms) | p99 vs no flush |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|");
            foreach (var (name, flush) in batches)
            {
                var baseline = await MeasureRealTimeAsync(galaxy, RealTimeWindow, null);
                Console.WriteLine($"| 2,000 ships, 50 zones, 2 workers | none | {baseline.Count} | {P(baseline, 0.5):F3} | {P(baseline, 0.99):F3} | 1.00 |");
                var withFlush = await MeasureRealTimeAsync(galaxy, RealTimeWindow, flush);
                Console.WriteLine($"| 2,000 ships, 50 zones, 2 workers | {name}, {Players:N0} players every second | {withFlush.Count} | {P(withFlush, 0.5):F3} | {P(withFlush, 0.99):F3} | {P(withFlush, 0.99) / P(baseline, 0.99):F2} |");
            }
            foreach (var (_, store) in stores)
            {
                await store.DisposeAsync();
            }
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The scheduler's own real-time loop at 20 Hz for <paramref name="window"/>, its per-worker tick durations read
    /// from its meter; with <paramref name="flush"/>, one flush of 10,000 players every second (five times the default
    /// rate) runs beside it.
    /// </summary>
    private static async Task<List<double>> MeasureRealTimeAsync(GalaxyModel galaxy, TimeSpan window, Func<Task>? flush)
    {
        var world = BusyWorld(galaxy);
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = true });
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

    private static double P(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static ZoneWorld BusyWorld(GalaxyModel galaxy)
    {
        var world = new ZoneWorld(galaxy, new ZoneOptions { TickRate = 20, NpcsPerSystem = 3 });
        for (var owner = 1; owner <= 2000; owner++)
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
}
