using Google.FlatBuffers;
using Sol.Core.Galaxy;
using Sol.Protocol;
using Sol.Server.Game.Wire;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using ZoneEntityKind = Sol.Zones.State.EntityKind;

namespace Sol.Server.Tests;

/// <summary>
/// A snapshot carries the moving ships only (players and NPCs): the stars, planets (on their closed-form orbits), gates
/// and colonies are in ZoneEnter, so sending them every tick was most of a quiet zone's snapshot.
/// </summary>
public sealed class SnapshotContentTests
{
    [Fact]
    public void ASystemsSnapshotHoldsItsShipsAndNpcsAndNoFixedBody()
    {
        var (world, scheduler) = World();
        using var _ = scheduler;
        Assert.True(world.SpawnShip(7, ZoneId.ForSystem(1), 0, 20_000, 0));
        Assert.True(world.SpawnShip(8, ZoneId.ForSystem(1), 0, -20_000, 0));
        scheduler.RunTicks(2);
        var zone = world.GetZone(ZoneId.ForSystem(1)).GetSnapshot();
        var moving = zone.Entities.ToArray().Where(e => e.Kind is ZoneEntityKind.Ship or ZoneEntityKind.Npc).ToArray();
        Assert.Equal(4, moving.Length); // 2 players, 2 NPCs
        Assert.True(zone.Entities.Length > moving.Length + 2, "the zone itself holds its star, planets and gates");

        var sent = Rows(new SnapshotEncoder().Encode(zone));
        Assert.Equal(moving.Select(e => SnapshotEncoder.WireId(e.Handle)), sent.Select(e => e.Id));
        Assert.Equal(moving.Select(e => ((float)e.X, (float)e.Y)), sent.Select(e => (e.X, e.Y)));
    }

    [Fact]
    public void AViewLeavesOutAFixedBodyItIsGiven()
    {
        var (world, scheduler) = World();
        using var _ = scheduler;
        Assert.True(world.SpawnShip(7, ZoneId.ForSystem(1), 0, 20_000, 0));
        scheduler.RunTicks(2);
        var zone = world.GetZone(ZoneId.ForSystem(1)).GetSnapshot();
        var entities = zone.Entities.ToArray();
        var planet = Array.FindIndex(entities, e => e.Kind == ZoneEntityKind.Planet);
        var ship = Array.FindIndex(entities, e => e.Owner == 7);
        var npc = Array.FindIndex(entities, e => e.Kind == ZoneEntityKind.Npc);
        Assert.True(planet >= 0 && ship >= 0 && npc >= 0);

        var encoder = new SnapshotEncoder();
        var sent = Rows(encoder.Encode(zone, [planet, ship, npc]));
        Assert.Equal([SnapshotEncoder.WireId(entities[ship].Handle), SnapshotEncoder.WireId(entities[npc].Handle)], sent.Select(e => e.Id));
        // The whole zone again from the same encoder (the tick's rows are written once and reused).
        Assert.Equal(3, Rows(encoder.Encode(zone)).Count);
    }

    [Fact]
    public void APlanetsSnapshotHoldsTheShipsOnItAndNotItsColonies()
    {
        var (world, scheduler) = World();
        using var _ = scheduler;
        var planet = world.Galaxy.PlanetsOf(1)[0];
        Assert.True(world.PlaceColony(planet.Id, 10, 20));
        Assert.True(world.SpawnColony(9, planet.Id, -30, 40));
        Assert.True(world.SpawnShip(7, ZoneId.ForPlanet(planet.Id), 0, 0, 0));
        scheduler.RunTicks(2);
        var zone = world.GetZone(ZoneId.ForPlanet(planet.Id)).GetSnapshot();
        Assert.Equal(2, zone.Entities.ToArray().Count(e => e.Kind == ZoneEntityKind.Colony));

        var sent = Rows(new SnapshotEncoder().Encode(zone));
        var only = Assert.Single(sent);
        Assert.Equal(Sol.Protocol.EntityKind.Ship, only.Kind);
    }

    [Fact]
    public void AShipComingIntoOrLeavingTheGameIsAJoinedOrLeftEvent()
    {
        // The zone's Spawned and Removed went out as kind None. (Checked on the encoder: over a socket, events ride on
        // snapshots a slow client may skip, so an end-to-end wait for one is not deterministic.)
        var (world, scheduler) = World();
        using var _ = scheduler;
        Assert.True(world.SpawnShip(7, ZoneId.ForSystem(1), 0, 20_000, 0)); // keeps the zone awake
        scheduler.RunTicks(2);
        Assert.True(world.SpawnShip(8, ZoneId.ForSystem(1), 0, -20_000, 0));
        scheduler.RunTicks(1);
        var zone = world.GetZone(ZoneId.ForSystem(1));
        Assert.True(zone.TryGetShip(8, out var ship));
        var id = SnapshotEncoder.WireId(ship.Handle);
        var encoder = new SnapshotEncoder();
        var joined = Events(encoder.Encode(zone.GetSnapshot()));
        Assert.Contains(joined, e => e.Kind == EventKind.Joined && e.Entity == id);

        Assert.True(world.RemoveShip(8));
        scheduler.RunTicks(1);
        var left = Events(encoder.Encode(zone.GetSnapshot()));
        Assert.Contains(left, e => e.Kind == EventKind.Left && e.Entity == id);
        Assert.DoesNotContain(joined.Concat(left), e => e.Kind == EventKind.None);
    }

    private static (ZoneWorld World, ZoneScheduler Scheduler) World()
    {
        var galaxy = GalaxyGenerator.Generate("content", GalaxyParameters.Default(6, 3));
        var world = new ZoneWorld(galaxy, new ZoneOptions { NpcsPerSystem = 2 });
        return (world, new ZoneScheduler(world, new SchedulerOptions { Workers = 1, PinThreads = false, MeterName = $"Sol.Test.{Guid.NewGuid():N}" }));
    }

    private static List<Sol.Protocol.EntityState> Rows(ArraySegment<byte> bytes)
    {
        var snapshot = ServerMessage.GetRootAsServerMessage(new ByteBuffer(bytes.ToArray())).PayloadAsSnapshot();
        return [.. Enumerable.Range(0, snapshot.EntitiesLength).Select(i => snapshot.Entities(i)!.Value)];
    }

    private static List<Sol.Protocol.ZoneEvent> Events(ArraySegment<byte> bytes)
    {
        var snapshot = ServerMessage.GetRootAsServerMessage(new ByteBuffer(bytes.ToArray())).PayloadAsSnapshot();
        return [.. Enumerable.Range(0, snapshot.EventsLength).Select(i => snapshot.Events(i)!.Value)];
    }
}
