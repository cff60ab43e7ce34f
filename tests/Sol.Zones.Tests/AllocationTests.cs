using Sol.Core.Galaxy;
using Sol.Zones.Input;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using Sol.Zones.Transfers;

namespace Sol.Zones.Tests;

public class AllocationTests
{
    [Fact]
    public void AZoneStepAllocatesNothingInSteadyState()
    {
        var world = new ZoneWorld(TestGalaxy.Ring(2, planets: 3, damageRadius: 2_000), new ZoneOptions { NpcsPerSystem = 20, StarDamagePerSecond = 500 });
        var zone = world.GetZone(ZoneId.ForSystem(1));
        // Ships only enter between ticks; here the test is the coordinator, so it lets the world apply the spawns.
        for (var owner = 1; owner <= 300; owner++)
        {
            world.SpawnShip(owner, ZoneId.ForSystem(1), 0, owner * 20, 1_000);
        }
        world.PrepareTick(0);
        uint seq = 0;
        long entities = 0;
        void Tick(long tick)
        {
            seq++;
            for (var owner = 1; owner <= 300; owner += 3)
            {
                world.PostInput(InputCommand.Steer(owner, seq, 1f, owner % 2 == 0 ? 0.5f : -0.5f));
            }
            // Requests that get rejected (too far) exercise triggers and events every tick.
            world.PostInput(InputCommand.Jump(2, seq, TestGalaxy.GateToNext(1) + 2));
            zone.Step(tick);
            // What the server does after a step: read the snapshot (asserts stay outside the loop: xunit's allocate).
            var snapshot = zone.GetSnapshot();
            entities += snapshot.Entities.Length;
        }
        for (var tick = 0; tick < 200; tick++)
        {
            Tick(tick);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var tick = 200; tick < 1_200; tick++)
        {
            Tick(tick);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(1_200L * zone.EntityCount, entities);
        Assert.True(zone.GetSnapshot().Events.Length > 0);
    }

    [Fact]
    public void ATickOfTheSchedulerWithJumpsBackAndForthAllocatesNothingOnAnyThread()
    {
        var world = new ZoneWorld(TestGalaxy.Ring(4, planets: 1), new ZoneOptions { NpcsPerSystem = 5, GateRadius = 1e9 });
        var drain = new Drainer(world);
        using var scheduler = new ZoneScheduler(world, new SchedulerOptions { Workers = 2, PinThreads = false, Observer = drain, MeterName = $"t.{Guid.NewGuid():N}" });
        for (var owner = 1; owner <= 200; owner++)
        {
            world.SpawnShip(owner, ZoneId.ForSystem((owner % 4) + 1), 0, 0, 5_000);
        }
        uint seq = 0;
        void Tick()
        {
            seq++;
            // Ten ships jump every tick: zones keep gaining and losing ships, none ever empties.
            for (var owner = 1 + (int)(seq % 20); owner <= 200; owner += 20)
            {
                world.TryGetZoneOf(owner, out var zone);
                world.RequestJump(owner, seq, TestGalaxy.GateToNext(zone.Id));
            }
            scheduler.StepOnce();
        }
        for (var i = 0; i < 300; i++)
        {
            Tick();
        }

        var workers = scheduler.Workers;
        var before = new long[workers.Length];
        for (var w = 0; w < workers.Length; w++)
        {
            before[w] = workers[w].AllocatedBytes;
        }
        var coordinator = GC.GetAllocatedBytesForCurrentThread();
        var moved = world.TransfersApplied;
        for (var i = 0; i < 500; i++)
        {
            Tick();
        }
        var coordinatorAllocated = GC.GetAllocatedBytesForCurrentThread() - coordinator;

        Assert.True(world.TransfersApplied - moved >= 4_000, $"moved {world.TransfersApplied - moved}");
        Assert.Equal(0, coordinatorAllocated);
        for (var w = 0; w < workers.Length; w++)
        {
            Assert.Equal(0, workers[w].AllocatedBytes - before[w]);
        }
    }

    private sealed class Drainer(ZoneWorld world) : IZoneStepObserver
    {
        private readonly ShipTransfer[] _buffer = new ShipTransfer[1024];

        public void OnZoneStepped(Zone zone)
        {
            // What the server does here: read the snapshot (and encode it).
            var snapshot = zone.GetSnapshot();
            _ = snapshot.Entities.Length;
        }

        public void OnTickCompleted(long tick)
        {
            while (world.DrainTransfers(_buffer) > 0)
            {
            }
        }
    }
}
