using BenchmarkDotNet.Attributes;
using Sol.Server.Game.Wire;
using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Bench.Game;

/// <summary>
/// Interest management alone: the nearest 96 ships for each of 64 clients in a zone of <see cref="Ships"/> ships
/// spread around a starting system (bots wander, so positions differ). <c>SortAll</c> is the textbook way — every
/// ship's distance, one sort, the first 97 — and the baseline of the ratio; <c>Select</c> is the server's
/// <see cref="ViewSelection"/> (prepared once per tick, as the hub does).
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class ViewSelectionBenchmarks
{
    private const int Clients = 64;
    private const int Limit = 96;

    private readonly ViewSelection _selection = new();
    private readonly ViewSelection _withoutGrid = new(gridFrom: int.MaxValue);
    private readonly ViewSelection _boxAroundEveryShip = new(trimBox: false);
    private EntityState[] _entities = [];
    private EntityState[] _clients = [];
    private float[] _keys = [];
    private int[] _items = [];

    [Params(500, 2000, 5000)]
    public int Ships { get; set; }

    /// <summary>One more ship, flown a million units away (which stretched the grid's box over the whole zone).</summary>
    [Params(false, true)]
    public bool FarShip { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var entities = new List<EntityState>();
        for (var i = 0; i < 12; i++)
        {
            entities.Add(State(i, EntityKind.Planet, random.NextDouble() * 1e6, random.NextDouble() * 1e6));
        }
        for (var i = 0; i < Ships; i++)
        {
            // A normal spread of a few thousand units around the spawn point.
            var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * 3_000;
            var angle = random.NextDouble() * Math.Tau;
            entities.Add(State(12 + i, EntityKind.Ship, radius * Math.Cos(angle), radius * Math.Sin(angle)));
        }
        if (FarShip)
        {
            entities.Add(State(12 + Ships, EntityKind.Ship, 1e6, -1e6));
        }
        _entities = [.. entities];
        _clients = [.. _entities.Where(e => e.Kind == EntityKind.Ship).Take(Clients)];
        _keys = new float[Ships + 1];
        _items = new int[Ships + 1];
        _selection.Prepare(_entities);
        _withoutGrid.Prepare(_entities);
        _boxAroundEveryShip.Prepare(_entities);
    }

    [Benchmark(Baseline = true)]
    public int SortAll()
    {
        var total = 0;
        foreach (var own in _clients)
        {
            var n = 0;
            for (var i = 0; i < _entities.Length; i++)
            {
                ref readonly var e = ref _entities[i];
                if (e.Kind is EntityKind.Ship or EntityKind.Npc)
                {
                    float dx = (float)e.X - (float)own.X, dy = (float)e.Y - (float)own.Y;
                    _keys[n] = e.Handle == own.Handle ? -1 : (dx * dx) + (dy * dy);
                    _items[n++] = i;
                }
            }
            Array.Sort(_keys, _items, 0, n);
            total += Math.Min(n, Limit + 1);
        }
        return total;
    }

    [Benchmark]
    public int Select() => SelectForEveryClient(_selection);

    /// <summary>The same without the grid (every ship looked at per client, as before zones of 256 ships got one).</summary>
    [Benchmark]
    public int SelectWithoutGrid() => SelectForEveryClient(_withoutGrid);

    /// <summary>The grid over a box around every ship (before the farthest 1 % were left out of it).</summary>
    [Benchmark]
    public int SelectBoxAroundEveryShip() => SelectForEveryClient(_boxAroundEveryShip);

    /// <summary>The once-per-tick part: picking the ships out and building the grid (its box: two quickselects per axis).</summary>
    [Benchmark]
    public int Prepare() => _selection.Prepare(_entities);

    [Benchmark]
    public int PrepareBoxAroundEveryShip() => _boxAroundEveryShip.Prepare(_entities);

    private int SelectForEveryClient(ViewSelection selection)
    {
        var total = 0;
        foreach (var own in _clients)
        {
            total += selection.Select(own, Limit).Length;
        }
        return total;
    }

    private static EntityState State(int slot, EntityKind kind, double x, double y) =>
        new(new EntityHandle(slot, 1), kind, default, 0, 0, 0, 0, x, y, 0, 0, 0, 0, 1);
}
