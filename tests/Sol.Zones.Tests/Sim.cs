using Sol.Core.Galaxy;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using Sol.Zones.Transfers;

namespace Sol.Zones.Tests;

/// <summary>A world and a scheduler stepped by hand, for tests that look at single ticks.</summary>
internal sealed class Sim : IDisposable
{
    public Sim(GalaxyModel galaxy, ZoneOptions options, int workers = 1, IZoneStepObserver? observer = null)
    {
        World = new ZoneWorld(galaxy, options);
        Scheduler = new ZoneScheduler(World, new SchedulerOptions { Workers = workers, PinThreads = false, Observer = observer, MeterName = $"Sol.Zones.Test.{Guid.NewGuid():N}" });
    }

    public ZoneWorld World { get; }

    public ZoneScheduler Scheduler { get; }

    /// <summary>Options with no NPCs, so tests see only what they put in.</summary>
    public static ZoneOptions Quiet(ZoneOptions? options = null) => (options ?? new ZoneOptions()) with { NpcsPerSystem = 0 };

    public Zone System(int id) => World.GetZone(ZoneId.ForSystem(id));

    public Zone Surface(int planetId) => World.GetZone(ZoneId.ForPlanet(planetId));

    public void Step(int ticks = 1) => Scheduler.RunTicks(ticks);

    public List<ShipTransfer> Transfers()
    {
        var buffer = new ShipTransfer[256];
        var list = new List<ShipTransfer>();
        int n;
        while ((n = World.DrainTransfers(buffer)) > 0)
        {
            list.AddRange(buffer.AsSpan(0, n));
        }
        return list;
    }

    public List<ZoneEvent> Events(Zone zone) => [.. zone.GetSnapshot().Events];

    public void Dispose() => Scheduler.Dispose();
}
