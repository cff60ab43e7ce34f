using System.Buffers;
using Google.FlatBuffers;
using Sol.Core.Galaxy;
using Sol.Core.Protocol;
using Sol.Protocol;
using Sol.Server.Game.Wire;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>
/// helper-63: the snapshot's rows carried only the Firing flag (Thrusting and Burning were never set), and a Destroyed
/// event said the penalty was paid even by an owner with no credits.
/// </summary>
public sealed class SnapshotFlagsTests : IDisposable
{
    private const long FirstOwner = 1; // the hub numbers its sessions from 1

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AShipInsideAStarsDamageRadiusIsBurningAndOneThrustingSaysSo()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var star = game.Galaxy.StarsOf(1)[0];
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForSystem(1), star.X + (star.DamageRadius * 0.9), star.Y, hull: 100);
        game.Step();
        Assert.True(game.World.TryGetZone(ZoneId.ForSystem(1), out var zone));
        var encoder = Encoder(game.Galaxy.StarsOf(1));
        Assert.Equal(Sol.Protocol.EntityFlags.Burning, (Sol.Protocol.EntityFlags)OwnRow(encoder, zone).Flags);

        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Input(1, 1, 0, true)));
        game.Step();
        Assert.Equal(
            Sol.Protocol.EntityFlags.Burning | Sol.Protocol.EntityFlags.Thrusting | Sol.Protocol.EntityFlags.Firing,
            (Sol.Protocol.EntityFlags)OwnRow(encoder, zone).Flags);

        // Engine off, still inside the damage radius: Burning stays. An encoder with no stars (a surface) sets no flag.
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Input(2, 0, 0, false)));
        game.Step();
        Assert.Equal(Sol.Protocol.EntityFlags.Burning, (Sol.Protocol.EntityFlags)OwnRow(encoder, zone).Flags);
        Assert.Equal((Sol.Protocol.EntityFlags)0, (Sol.Protocol.EntityFlags)OwnRow(Encoder([]), zone).Flags);
    }

    [Fact]
    public void NpcsAreUnderPower()
    {
        var galaxy = GalaxyGenerator.Generate("npcs", GalaxyParameters.Default(6, 3));
        var world = new Sol.Zones.Simulation.ZoneWorld(galaxy, new Sol.Zones.Simulation.ZoneOptions { NpcsPerSystem = 2 });
        using var scheduler = new Sol.Zones.Scheduling.ZoneScheduler(world, new Sol.Zones.Scheduling.SchedulerOptions { Workers = 1, PinThreads = false, MeterName = $"Sol.Test.{Guid.NewGuid():N}" });
        Assert.True(world.SpawnShip(7, ZoneId.ForSystem(1), 0, 20_000, 0)); // wakes the zone
        scheduler.RunTicks(3);
        var snapshot = Snapshot(Encoder([]).Encode(world.GetZone(ZoneId.ForSystem(1)).GetSnapshot()));
        var npcs = Enumerable.Range(0, snapshot.EntitiesLength).Select(i => snapshot.Entities(i)!.Value).Where(e => e.Kind == Sol.Protocol.EntityKind.Npc).ToList();
        Assert.Equal(2, npcs.Count);
        Assert.All(npcs, n => Assert.True(((Sol.Protocol.EntityFlags)n.Flags).HasFlag(Sol.Protocol.EntityFlags.Thrusting)));
    }

    [Theory]
    [InlineData(1_000, 100f)] // the penalty
    [InlineData(30, 30f)]     // all it had
    [InlineData(0, 0f)]
    public async Task ADestroyedEventSaysWhatItsOwnerLoses(long credits, float lost)
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var star = game.Galaxy.StarsOf(1)[0];
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForSystem(1), star.X, star.Y, hull: 1); // burned in its first step
        game.Step(pass: false);
        Assert.True(game.World.TryGetZone(ZoneId.ForSystem(1), out var zone));

        var snapshot = Snapshot(new SnapshotEncoder(100, creditsOf: owner => owner == FirstOwner ? credits : 1_000_000).Encode(zone.GetSnapshot()));
        var destroyed = Enumerable.Range(0, snapshot.EventsLength).Select(i => snapshot.Events(i)!.Value).Single(e => e.Kind == EventKind.Destroyed);
        Assert.Equal(lost, destroyed.Value);
        var whole = Snapshot(new SnapshotEncoder(100).Encode(zone.GetSnapshot()));
        Assert.Equal(100f, Enumerable.Range(0, whole.EventsLength).Select(i => whole.Events(i)!.Value).Single(e => e.Kind == EventKind.Destroyed).Value); // no lookup: the penalty
    }

    private static SnapshotEncoder Encoder(ReadOnlySpan<Star> stars) => new(100, stars: stars);

    private static Sol.Protocol.EntityState OwnRow(SnapshotEncoder encoder, Sol.Zones.Simulation.Zone zone)
    {
        Assert.True(zone.TryGetShip(FirstOwner, out var ship));
        var snapshot = Snapshot(encoder.Encode(zone.GetSnapshot()));
        var id = SnapshotEncoder.WireId(ship.Handle);
        return Enumerable.Range(0, snapshot.EntitiesLength).Select(i => snapshot.Entities(i)!.Value).Single(e => e.Id == id);
    }

    private static Snapshot Snapshot(ArraySegment<byte> bytes) =>
        ServerMessage.GetRootAsServerMessage(new ByteBuffer(bytes.ToArray())).PayloadAsSnapshot();
}
