using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sol.Core.Galaxy;
using Sol.Testing;
using Sol.Zones.Input;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using Sol.Zones.Transfers;

namespace Sol.Zones.Tests;

public class SchedulerTests
{
    [Fact]
    public void ZonesWithoutPlayersSleepAndAJumpWakesTheTargetExactlyWhereItWouldBe()
    {
        var galaxy = TestGalaxy.Ring(3, planets: 2);
        using var sim = new Sim(galaxy, Sim.Quiet() with { GateRadius = 200 });
        sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, TestGalaxy.GateDistance, 0);
        sim.Step(30);

        Assert.True(sim.System(1).IsAwake);
        Assert.Equal(29, sim.System(1).Tick);
        Assert.False(sim.System(2).IsAwake);
        Assert.Equal(-1, sim.System(2).Tick);
        Assert.Equal(-1, sim.System(3).Tick);

        sim.World.RequestJump(1, 1, TestGalaxy.GateToNext(1));
        sim.Step();
        sim.Step();

        // System 2 slept through 31 ticks and now steps at the world's tick with planets on their closed-form orbits.
        var woken = sim.System(2);
        Assert.True(woken.IsAwake);
        Assert.Equal(sim.World.Tick, woken.Tick);
        foreach (var e in woken.GetSnapshot().Entities)
        {
            if (e.Kind == State.EntityKind.Planet)
            {
                var (x, y) = galaxy.Planet(e.Ref).PositionAt(sim.World.Tick / 20.0);
                Assert.Equal(x, e.X);
                Assert.Equal(y, e.Y);
            }
        }
        // System 1 lost its only player and went to sleep.
        Assert.False(sim.System(1).IsAwake);
        var slept = sim.System(1).Tick;
        sim.Step(5);
        Assert.Equal(slept, sim.System(1).Tick);
        Assert.Equal(sim.World.Tick, woken.Tick);
    }

    [Fact]
    public void RemovingTheLastShipPutsTheZoneToSleepAndTellsTheServer()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Sim.Quiet());
        sim.World.SpawnShip(5, ZoneId.ForSystem(2), 0, 0, 5_000);
        sim.Step();
        Assert.True(sim.World.RemoveShip(5));
        Assert.False(sim.World.RemoveShip(5));
        Assert.False(sim.World.TryGetZoneOf(5, out _));
        sim.Step();

        Assert.False(sim.System(2).IsAwake);
        Assert.Equal(0, sim.System(2).PlayerShipCount);
        var transfers = sim.Transfers();
        Assert.Equal([TransferKind.Spawned, TransferKind.Removed], transfers.Select(t => t.Kind));
        Assert.Equal(ZoneId.ForSystem(2), transfers[1].From);

        // The owner can come back.
        Assert.True(sim.World.SpawnShip(5, ZoneId.ForSystem(1), 0, 0, 5_000));
        sim.Step();
        Assert.True(sim.System(1).TryGetShip(5, out _));
    }

    [Fact]
    public void SpawnsForUnknownZonesClassesOrOwnerZeroAreRefused()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Sim.Quiet());
        Assert.False(sim.World.SpawnShip(1, ZoneId.ForSystem(3), 0, 0, 0));
        Assert.False(sim.World.SpawnShip(1, ZoneId.ForPlanet(99), 0, 0, 0));
        Assert.False(sim.World.SpawnShip(1, ZoneId.ForSystem(1), 1, 0, 0));
        Assert.False(sim.World.SpawnShip(0, ZoneId.ForSystem(1), 0, 0, 0));
        Assert.False(sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, double.NaN, 0));
        Assert.Equal(0, sim.World.ShipCount);
    }

    [Fact]
    public void EachAwakeZoneIsSteppedExactlyOncePerTickByOneWorker()
    {
        var counter = new StepCounter(16);
        var galaxy = TestGalaxy.Ring(8, planets: 1);
        using var sim = new Sim(galaxy, new ZoneOptions { NpcsPerSystem = 2 }, workers: 4, counter);
        for (var s = 1; s <= 8; s++)
        {
            sim.World.SpawnShip(s, ZoneId.ForSystem(s), 0, 0, 5_000);
            sim.World.SpawnShip(100 + s, ZoneId.ForPlanet(s), 0, 0, 0);
        }
        sim.Step(50);

        Assert.Null(counter.Failure);
        Assert.Equal(50, counter.Ticks);
        Assert.True(counter.Threads.Count > 1, "zones were spread over more than one worker thread");
    }

    [Fact]
    public void TheHeaviestZoneGetsAWorkerToItself()
    {
        var galaxy = TestGalaxy.Ring(4, planets: 0);
        using var sim = new Sim(galaxy, Sim.Quiet(), workers: 2);
        for (var s = 1; s <= 4; s++)
        {
            sim.World.SpawnShip(s, ZoneId.ForSystem(s), 0, 0, 5_000);
        }
        for (var owner = 100; owner < 3_100; owner++)
        {
            sim.World.SpawnShip(owner, ZoneId.ForSystem(3), 0, owner, 5_000);
        }
        // Enough ticks for the load measurements to settle and a rebalance to use them.
        sim.Step(45);

        var heavy = sim.Scheduler.WorkerOf(2);
        Assert.NotEqual(-1, heavy);
        foreach (var light in new[] { 0, 1, 3 })
        {
            var worker = sim.Scheduler.WorkerOf(light);
            Assert.NotEqual(-1, worker);
            Assert.NotEqual(heavy, worker);
        }
    }

    [Fact]
    public void TicksThatTakeLongerThanThePeriodAreCountedAsOverruns()
    {
        var slow = new SlowObserver(TimeSpan.FromMilliseconds(3));
        using var sim = new Sim(TestGalaxy.Ring(1), Sim.Quiet() with { TickRate = 1_000 }, workers: 1, slow);
        sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 5_000);
        sim.Step(5);
        Assert.Equal(5, sim.Scheduler.Overruns);

        slow.Delay = TimeSpan.Zero;
        var before = sim.Scheduler.Overruns;
        using var fast = new Sim(TestGalaxy.Ring(1), Sim.Quiet() with { TickRate = 1 }, workers: 1);
        fast.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 5_000);
        fast.Step(5);
        Assert.Equal(0, fast.Scheduler.Overruns);
        Assert.Equal(before, sim.Scheduler.Overruns);
    }

    [Fact]
    public void EveryWorkerPublishesItsTickDurationsToAHistogram()
    {
        var meterName = $"Sol.Zones.Test.{Guid.NewGuid():N}";
        var perWorker = new int[2];
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == meterName && instrument.Name == "sol.zones.worker.tick.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            Assert.True(value >= 0);
            foreach (var tag in tags)
            {
                if (tag.Key == "worker")
                {
                    Interlocked.Increment(ref perWorker[(int)tag.Value!]);
                }
            }
        });
        listener.Start();

        var world = new ZoneWorld(TestGalaxy.Ring(4), Sim.Quiet());
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = false, MeterName = meterName });
        for (var s = 1; s <= 4; s++)
        {
            world.SpawnShip(s, ZoneId.ForSystem(s), 0, 0, 5_000);
        }
        scheduler.RunTicks(10);

        Assert.Equal(10, Volatile.Read(ref perWorker[0]));
        Assert.Equal(10, Volatile.Read(ref perWorker[1]));
    }

    [Fact]
    public async Task TheRealTimeLoopTicksAtTheTickRateUntilStopped()
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Sim.Quiet() with { TickRate = 200 }, workers: 2);
        sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 5_000);
        var clock = Stopwatch.StartNew();
        sim.Scheduler.Start();
        Assert.True(sim.Scheduler.IsRunning);
        Assert.Throws<InvalidOperationException>(sim.Scheduler.StepOnce);
        await Eventually.TrueAsync(() => sim.Scheduler.TicksRun >= 40, TimeSpan.FromSeconds(10), "40 ticks");
        sim.Scheduler.Stop();
        var elapsed = clock.Elapsed;
        var ticks = sim.Scheduler.TicksRun;

        Assert.False(sim.Scheduler.IsRunning);
        Assert.Null(sim.Scheduler.Fault);
        // 40 ticks at 200 Hz cannot take less than 195 ms; a free-running loop would do them in well under that.
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(195), $"{ticks} ticks in {elapsed.TotalMilliseconds} ms");
        Assert.Equal(ticks - 1, sim.World.Tick);

        // Stopped means stopped; stepping by hand works again.
        sim.Step();
        Assert.Equal(ticks + 1, sim.Scheduler.TicksRun);
    }

    [Fact]
    public void WorkersPinThemselvesToACoreOnLinuxAndSayWhere()
    {
        var lines = new List<string>();
        var world = new ZoneWorld(TestGalaxy.Ring(2), Sim.Quiet());
        using (var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = true, Log = l => { lock (lines) { lines.Add(l); } }, MeterName = $"t.{Guid.NewGuid():N}" }))
        {
            world.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 5_000);
            world.SpawnShip(2, ZoneId.ForSystem(2), 0, 0, 5_000);
            scheduler.RunTicks(3);
            foreach (var worker in scheduler.Workers)
            {
                Assert.Equal(OperatingSystem.IsLinux(), worker.Pinned);
            }
        }
        lock (lines)
        {
            Assert.Equal(2, lines.Count);
            Assert.All(lines, l => Assert.Contains(OperatingSystem.IsLinux() ? "pinned to core" : "only implemented on Linux", l, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void PinningTheCurrentThreadRestrictsItToThatCore()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(ThreadAffinity.TryPinCurrentThread(0, out _));
            return;
        }
        var mask = 0L;
        var pinned = false;
        var thread = new Thread(() =>
        {
            pinned = ThreadAffinity.TryPinCurrentThread(Environment.ProcessorCount - 1, out _);
            mask = ThreadAffinity.CurrentMask();
        });
        thread.Start();
        thread.Join();
        Assert.True(pinned);
        Assert.Equal(1L << (Environment.ProcessorCount - 1), mask);
    }

    [Fact]
    public void AFailingStepSurfacesOnTheCoordinator()
    {
        using var sim = new Sim(TestGalaxy.Ring(1), Sim.Quiet(), workers: 1, new ThrowingObserver());
        sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 5_000);
        var e = Assert.Throws<InvalidOperationException>(() => sim.Step());
        Assert.IsType<NotSupportedException>(e.InnerException);
    }

    [Fact]
    public void AJumpRequestIsNotLostWhenItsZonesInboxOverflows()
    {
        using var sim = new Sim(TestGalaxy.Ring(3), Sim.Quiet() with { InboxCapacity = 64 });
        sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, TestGalaxy.GateDistance - 100, 0);
        for (var owner = 2; owner < 40; owner++)
        {
            sim.World.SpawnShip(owner, ZoneId.ForSystem(1), 0, 0, 3_000);
        }
        sim.Step();
        sim.World.RequestJump(1, 1, TestGalaxy.GateToNext(1)); // carries its pilot's last input number, 1
        // In the same tick the 38 other pilots send two inputs each (as after an overrun), and the jumping pilot its
        // next one (number 2): 78 inputs for 64 cells.
        for (var k = 0; k < 2; k++)
        {
            if (k == 1)
            {
                sim.World.PostInput(InputCommand.Steer(1, 2, 0, 0));
            }
            for (var owner = 2; owner < 40; owner++)
            {
                sim.World.PostInput(InputCommand.Steer(owner, (uint)(k + 1), 0.5f, 0));
            }
        }
        sim.Step();
        sim.Step();

        // Before: the request was the oldest input and the first dropped: no transfer, no rejection, no error. Then,
        // moved back behind its pilot's input 2, it was dropped as stale (helper-48).
        Assert.True(sim.System(2).TryGetShip(1, out _), "the ship did not jump");
        var losses = sim.World.InputLosses();
        Assert.Equal(14, losses.Dropped);
        Assert.Equal(0, losses.RequestsDropped);
        Assert.Equal(0, losses.Stale);
    }

    [Fact]
    public void TakeOffAndArrivalEventsNameWhatTheirZoneKnows()
    {
        var galaxy = TestGalaxy.Ring(3);
        using var sim = new Sim(galaxy, Sim.Quiet());
        var planetId = TestGalaxy.PlanetOf(1, 0);
        sim.World.SpawnShip(1, ZoneId.ForPlanet(planetId), 0, 0, 0);
        sim.World.SpawnShip(2, ZoneId.ForPlanet(planetId), 0, 0, 0); // keeps the surface awake to see the departure
        sim.World.SpawnShip(3, ZoneId.ForSystem(1), 0, TestGalaxy.GateDistance - 100, 0);
        sim.World.SpawnShip(4, ZoneId.ForSystem(2), 0, 0, 3_000); // keeps system 2 awake to see the arrival
        sim.Step();
        sim.World.RequestTakeOff(1, 1);
        sim.World.RequestJump(3, 1, TestGalaxy.GateToNext(1));
        sim.Step();
        sim.Step();

        // Before: a take-off named planet 0 on both sides, and an arrival named the gate of the system left.
        var departed = Assert.Single(sim.Events(sim.Surface(planetId)), e => e.Kind == ZoneEventKind.Departed);
        Assert.Equal((ShipAction.TakeOff, planetId), (departed.Action, departed.Target));
        var inOrbit = Assert.Single(sim.Events(sim.System(1)), e => e.Kind == ZoneEventKind.Arrived);
        Assert.Equal(planetId, inOrbit.Target);
        var throughGate = Assert.Single(sim.Events(sim.System(2)), e => e.Kind == ZoneEventKind.Arrived);
        Assert.Equal(galaxy.Gate(TestGalaxy.GateToNext(1)).PartnerGateId, throughGate.Target);
        Assert.Contains(throughGate.Target, galaxy.GatesOf(2).ToArray().Select(g => g.Id));
    }

    [Fact]
    public async Task AFailingRealTimeLoopSaysSoOnceAndStops()
    {
        var world = new ZoneWorld(TestGalaxy.Ring(1), Sim.Quiet() with { TickRate = 100 });
        var faults = new List<Exception>();
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions
        {
            Workers = 1,
            PinThreads = false,
            Observer = new ThrowingObserver(),
            Faulted = e =>
            {
                lock (faults)
                {
                    faults.Add(e);
                }
                throw new InvalidOperationException("a handler that throws is ignored");
            },
            MeterName = $"t.{Guid.NewGuid():N}",
        });
        world.SpawnShip(1, ZoneId.ForSystem(1), 0, 0, 5_000);
        scheduler.Start();
        await Eventually.TrueAsync(() => scheduler.Fault is not null, TimeSpan.FromSeconds(10), "the loop's fault");
        await Eventually.TrueAsync(() => { lock (faults) { return faults.Count == 1; } }, TimeSpan.FromSeconds(10), "the handler called");
        var ticks = scheduler.TicksRun;
        scheduler.Stop();

        Assert.Same(scheduler.Fault, Assert.Single(faults));
        Assert.IsType<NotSupportedException>(scheduler.Fault!.InnerException);
        Assert.Equal(0, ticks);
    }

    private sealed class StepCounter(int zones) : IZoneStepObserver
    {
        private readonly int[] _steps = new int[zones];

        public HashSet<int> Threads { get; } = [];

        public string? Failure { get; private set; }

        public int Ticks { get; private set; }

        public void OnZoneStepped(Zone zone)
        {
            Interlocked.Increment(ref _steps[zone.Index]);
            lock (Threads)
            {
                Threads.Add(Environment.CurrentManagedThreadId);
            }
        }

        public void OnTickCompleted(long tick)
        {
            for (var i = 0; i < _steps.Length; i++)
            {
                if (_steps[i] != 1)
                {
                    Failure ??= $"zone {i} stepped {_steps[i]} times in tick {tick}";
                }
                _steps[i] = 0;
            }
            Ticks++;
        }
    }

    private sealed class SlowObserver(TimeSpan delay) : IZoneStepObserver
    {
        public TimeSpan Delay { get; set; } = delay;

        public void OnZoneStepped(Zone zone)
        {
            // Busy work, not a sleep: the tick really takes this long.
            var until = Stopwatch.GetTimestamp() + (long)(Delay.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(10);
            }
        }

        public void OnTickCompleted(long tick)
        {
        }
    }

    private sealed class ThrowingObserver : IZoneStepObserver
    {
        public void OnZoneStepped(Zone zone) => throw new NotSupportedException("boom");

        public void OnTickCompleted(long tick)
        {
        }
    }
}
