using Sol.Core.Galaxy;
using Sol.Core.Mathematics;
using Sol.Testing;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using Sol.Zones.State;
using Sol.Zones.Transfers;

namespace Sol.Zones.Tests;

public class TransferConcurrencyTests
{
    private const int Ships = 2_000;

    [Fact]
    public async Task ThousandsOfConcurrentRandomJumpsMoveEveryShipExactlyOnce()
    {
        var galaxy = TestGalaxy.Ring(8, planets: 1);
        // Every gate is within reach from anywhere, so every jump request is accepted.
        var options = new ZoneOptions { NpcsPerSystem = 1, GateRadius = 1e9, LandingMargin = 1e9, TickRate = 1_000 };
        var world = new ZoneWorld(galaxy, options);
        var checker = new Conservation(world);
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = false, Observer = checker, MeterName = $"test.{Guid.NewGuid():N}" });
        var random = new DeterministicRandom(5);
        for (var owner = 1; owner <= Ships; owner++)
        {
            Assert.True(world.SpawnShip(owner, ZoneId.ForSystem(random.NextInt(1, 8)), 0, 0, 0));
        }
        Assert.False(world.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 0));

        scheduler.Start();
        using var stop = new CancellationTokenSource();
        var seq = 0L;
        var producers = new Task[4];
        for (var p = 0; p < producers.Length; p++)
        {
            var stream = (ulong)p;
            producers[p] = Task.Factory.StartNew(() =>
            {
                var r = DeterministicRandom.ForStream(11, stream);
                while (!stop.IsCancellationRequested)
                {
                    var owner = r.NextInt(1, Ships);
                    if (!world.TryGetZoneOf(owner, out var zone))
                    {
                        continue;
                    }
                    var s = (uint)Interlocked.Increment(ref seq);
                    // Mostly jumps through a gate of the zone the directory names; some land, some take off, some stale.
                    var roll = r.NextInt(0, 9);
                    if (zone.Kind == ZoneKind.Planet || roll == 0)
                    {
                        world.RequestTakeOff(owner, s);
                    }
                    else if (roll == 1)
                    {
                        world.RequestLand(owner, s, galaxy.PlanetsOf(zone.Id)[0].Id);
                    }
                    else
                    {
                        var gates = galaxy.GatesOf(zone.Id);
                        world.RequestJump(owner, s, gates[r.NextInt(0, gates.Length - 1)].Id);
                    }
                }
            }, TaskCreationOptions.LongRunning);
        }

        try
        {
            await Eventually.TrueAsync(() => (world.TransfersApplied >= 20_000 && checker.TicksChecked >= 50) || scheduler.Fault is not null || checker.Failure is not null, TimeSpan.FromSeconds(60), "20,000 transfers over 50 ticks");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(producers);
            scheduler.Stop();
        }

        Assert.Null(scheduler.Fault);
        Assert.Null(checker.Failure);
        Assert.True(checker.TicksChecked >= 50);
        // A last full check with everything stopped, then the outcomes the server drained add up.
        checker.OnTickCompleted(world.Tick);
        Assert.Null(checker.Failure);
        Assert.Equal(Ships, checker.Spawned);
        Assert.Equal(world.TransfersApplied, checker.Moved);
        Assert.Equal(Ships, world.ShipCount);
        Assert.True(world.TransfersApplied >= 20_000);
    }

    /// <summary>
    /// After every tick (on the coordinator, while no worker runs): each owner's ship is in exactly one zone, that zone
    /// is the one the directory routes to, and the transfer outcomes replayed from the start put it there too.
    /// </summary>
    private sealed class Conservation(ZoneWorld world) : IZoneStepObserver
    {
        private readonly int[] _seenIn = new int[Ships + 1];
        private readonly int[] _replayed = new int[Ships + 1];
        private readonly ShipTransfer[] _buffer = new ShipTransfer[4096];

        public string? Failure { get; private set; }

        public int TicksChecked { get; private set; }

        public int Spawned { get; private set; }

        public long Moved { get; private set; }

        public void OnZoneStepped(Zone zone)
        {
        }

        public void OnTickCompleted(long tick)
        {
            int n;
            while ((n = world.DrainTransfers(_buffer)) > 0)
            {
                foreach (var t in _buffer.AsSpan(0, n))
                {
                    var from = t.Kind == TransferKind.Spawned ? -1 : world.IndexOf(t.From);
                    if (t.Kind == TransferKind.Spawned)
                    {
                        Spawned++;
                    }
                    else
                    {
                        Moved++;
                    }
                    if (from >= 0 && _replayed[t.Owner] != from + 1)
                    {
                        Failure ??= $"tick {tick}: owner {t.Owner} left {t.From} but the outcomes had it in zone index {_replayed[t.Owner] - 1}";
                    }
                    _replayed[t.Owner] = world.IndexOf(t.To) + 1;
                }
            }
            Array.Clear(_seenIn);
            var total = 0;
            foreach (var zone in world.Zones)
            {
                for (var owner = 1; owner <= Ships; owner++)
                {
                    if (zone.TryGetShip(owner, out var ship))
                    {
                        total++;
                        if (_seenIn[owner] != 0)
                        {
                            Failure ??= $"tick {tick}: owner {owner} is in zone index {_seenIn[owner] - 1} and in {zone.Index}";
                        }
                        _seenIn[owner] = zone.Index + 1;
                        if (ship.Kind != EntityKind.Ship)
                        {
                            Failure ??= $"tick {tick}: owner {owner} maps to a {ship.Kind}";
                        }
                    }
                }
            }
            for (var owner = 1; owner <= Ships; owner++)
            {
                if (_seenIn[owner] == 0)
                {
                    Failure ??= $"tick {tick}: owner {owner} is in no zone";
                }
                else if (_seenIn[owner] != _replayed[owner])
                {
                    Failure ??= $"tick {tick}: owner {owner} is in zone index {_seenIn[owner] - 1} but the outcomes say {_replayed[owner] - 1}";
                }
                else if (!world.TryGetZoneOf(owner, out var routed) || world.IndexOf(routed) != _seenIn[owner] - 1)
                {
                    Failure ??= $"tick {tick}: the directory routes owner {owner} elsewhere";
                }
            }
            if (total != Ships)
            {
                Failure ??= $"tick {tick}: {total} ships in the zones, expected {Ships}";
            }
            TicksChecked++;
        }
    }
}
