using System.Buffers;
using Google.FlatBuffers;
using Sol.Core.Galaxy;
using Sol.Core.Protocol;
using Sol.Protocol;
using Sol.Server.Game.Wire;
using Sol.Testing;

namespace Sol.Server.Tests;

public class WireTests
{
    private readonly ClientMessageWriter _client = new();
    private readonly ClientMessageReader _reader = new();

    [Theory]
    [InlineData(Sol.Zones.Simulation.RejectReason.WrongZone, Sol.Zones.Input.ShipAction.Jump, ErrorCode.AlreadyLanded)]
    [InlineData(Sol.Zones.Simulation.RejectReason.WrongZone, Sol.Zones.Input.ShipAction.Land, ErrorCode.AlreadyLanded)]
    [InlineData(Sol.Zones.Simulation.RejectReason.WrongZone, Sol.Zones.Input.ShipAction.TakeOff, ErrorCode.NotLanded)]
    [InlineData(Sol.Zones.Simulation.RejectReason.TooFar, Sol.Zones.Input.ShipAction.Jump, ErrorCode.TooFar)]
    [InlineData(Sol.Zones.Simulation.RejectReason.UnknownTarget, Sol.Zones.Input.ShipAction.Land, ErrorCode.UnknownTarget)]
    [InlineData(Sol.Zones.Simulation.RejectReason.Destroyed, Sol.Zones.Input.ShipAction.TakeOff, ErrorCode.Destroyed)]
    public void ARefusalIsToldWithTheCodeOfWhatWasAsked(Sol.Zones.Simulation.RejectReason reason, Sol.Zones.Input.ShipAction action, ErrorCode code)
    {
        // helper-63: a jump or landing from a surface was told NotLanded; AlreadyLanded was never sent.
        Assert.Equal(code, Sol.Server.Game.Wire.SnapshotEncoder.RejectCode(reason, action));
    }

    [Fact]
    public void EveryClientMessageRoundTrips()
    {
        Assert.Equal(new ClientIntent(ClientIntentKind.Input, 42, 1, -0.25f, true, 0, 0, null, null), Read(_client.Input(42, 1, -0.25f, true)));
        Assert.Equal(ClientIntentKind.Jump, Read(_client.Jump(7)).Kind);
        Assert.Equal(7u, Read(_client.Jump(7)).Target);
        Assert.Equal(9u, Read(_client.Land(9)).Target);
        Assert.Equal(ClientIntentKind.TakeOff, Read(_client.TakeOff()).Kind);
        Assert.Equal(ClientIntentKind.Colonize, Read(_client.Colonize()).Kind);
        Assert.Equal(12.5, Read(_client.Ping(12.5)).ClientTime);
        var route = Read(_client.SetRoute([3, 4, 5], 0));
        Assert.Equal([3u, 4u, 5u], route.Route!);
        Assert.Equal("abc", Read(_client.Reauth("abc")).Token);
    }

    [Fact]
    public void InputIsClampedAndNonFiniteValuesBecomeZero()
    {
        var intent = Read(_client.Input(1, 5, float.NaN, false));
        Assert.Equal((1f, 0f), (intent.Thrust, intent.Turn));
        intent = Read(_client.Input(2, float.NegativeInfinity, -3, false));
        Assert.Equal((0f, -1f), (intent.Thrust, intent.Turn));
    }

    [Fact]
    public void GarbageIsRejectedAndAnUnknownTypeIsRecognised()
    {
        Assert.False(_reader.TryRead(new ReadOnlySequence<byte>(new byte[] { 1, 2, 3 }), out _));
        Assert.False(_reader.TryRead(new ReadOnlySequence<byte>(new byte[5000]), out _));
        Assert.False(_reader.TryRead(ReadOnlySequence<byte>.Empty, out _));

        // A ClientMessage whose union type (99) is from a newer protocol: valid, but unknown here.
        var b = new FlatBufferBuilder(64);
        Ping.StartPing(b);
        var payload = Ping.EndPing(b);
        b.Finish(ClientMessage.CreateClientMessage(b, (ClientPayload)99, payload.Value).Value);
        Assert.True(_reader.TryRead(new ReadOnlySequence<byte>(b.SizedByteArray()), out var intent));
        Assert.Equal(ClientIntentKind.Unknown, intent.Kind);
    }

    [Fact]
    public void AShortMessageAfterALongOneDoesNotSeeItsBytes()
    {
        Assert.Equal(ClientIntentKind.SetRoute, Read(_client.SetRoute(Enumerable.Range(1, 500).Select(i => (uint)i).ToArray(), 0)).Kind);
        Assert.Equal(ClientIntentKind.TakeOff, Read(_client.TakeOff()).Kind);
        Assert.Equal(3u, Read(_client.Input(3, 0, 0, false)).Seq);
    }

    [Fact]
    public void ReadingInputsAndWritingAcksAllocatesNothing()
    {
        var writer = new ServerMessageWriter();
        var bytes = _client.Input(1, 0.5f, 0, false).ToArray();
        var sequence = new ReadOnlySequence<byte>(bytes);
        var bytesPerRound = AllocationBudget.SteadyStateBytes(i =>
        {
            _reader.TryRead(sequence, out var intent);
            _ = writer.Ack((ulong)i, 5, intent.Seq);
            _ = writer.Pong(i, i);
        });
        Assert.Equal(0, bytesPerRound);
    }

    [Fact]
    public void EveryServerMessageWePassesTheVerifier()
    {
        var writer = new ServerMessageWriter();
        var verifier = new ProtocolVerifier();
        var galaxy = GalaxyGenerator.Generate("g", GalaxyParameters.Default(6, 4));
        var messages = new List<byte[]>
        {
            writer.Welcome("client", "player", 1.5, 20, "sol.v1").ToArray(),
            writer.Ack(1, 2, 3).ToArray(),
            writer.Pong(1, 2).ToArray(),
            writer.Error(ErrorCode.TooFar, "too far from the gate").ToArray(),
            writer.PlayerState(100, "scout", 90, 100, 1, [1, 2], [2, 3], [5], [("ore", 3)]).ToArray(),
            writer.ZoneEnter(galaxy, ZoneId.ForSystem(1), 12, 7, 400, [new ColonyView(1, "ada", 3, 0, 0)]).ToArray(),
            writer.ZoneEnter(galaxy, ZoneId.ForPlanet(galaxy.PlanetsOf(2)[0].Id), 12, 7, 400, [new ColonyView(galaxy.PlanetsOf(2)[0].Id, "ada", 3, -12.5f, 40)]).ToArray(),
            writer.Colony(new ColonyView(7, "bob", 99.5, 3.25f, -8)).ToArray(),
        };
        foreach (var bytes in messages)
        {
            Assert.True(verifier.VerifyServerMessage(new ByteBuffer(bytes)));
        }
        var enter = ServerMessage.GetRootAsServerMessage(new ByteBuffer(messages[5])).PayloadAsZoneEnter();
        Assert.Equal(galaxy.System(1).Name, enter.Name);
        Assert.Equal(galaxy.GatesOf(1).Length, enter.GatesLength);
        Assert.Equal(galaxy.System((int)enter.Gates(0)!.Value.TargetSystemId).Name, enter.Gates(0)!.Value.TargetName);
        Assert.Equal(galaxy.StarsOf(1).Length, enter.StarsLength);
        Assert.Equal((uint)galaxy.StarsOf(1)[0].Id, enter.Stars(0)!.Value.Id);
        var planetZone = ServerMessage.GetRootAsServerMessage(new ByteBuffer(messages[6])).PayloadAsZoneEnter();
        Assert.Equal(Sol.Protocol.ZoneKind.Planet, planetZone.ZoneKind);
        Assert.Equal(2u, planetZone.SystemId);
        Assert.Equal((-12.5f, 40f), (planetZone.Colonies(0)!.Value.X, planetZone.Colonies(0)!.Value.Y));
        var colony = ServerMessage.GetRootAsServerMessage(new ByteBuffer(messages[7])).PayloadAsColonyInfo();
        Assert.Equal((7u, "bob", 99.5, 3.25f, -8f), (colony.PlanetId, colony.Owner, colony.Founded, colony.X, colony.Y));
    }

    [Fact]
    public void AZoneEnterOfASystemWhosePlanetsAllHoldTheMostColoniesStaysFarUnderTheSendBacklog()
    {
        // The rules' largest colonies-per-planet on the most planets a system has: before the limit, a system with
        // about 7,000 colonies made a ZoneEnter over the connection's backlog, and everyone entering it was closed (1008).
        var galaxy = GalaxyGenerator.Generate("g", GalaxyParameters.Default(4, 4) with
        {
            Planets = new IntRange(GalaxyLimits.MaxPlanetsPerSystem, GalaxyLimits.MaxPlanetsPerSystem),
        });
        var colonies = new List<ColonyView>();
        foreach (var planet in galaxy.PlanetsOf(1))
        {
            for (var i = 0; i < Sol.Server.Assets.GameRules.MaxColoniesPerPlanet; i++)
            {
                colonies.Add(new ColonyView(planet.Id, Guid.NewGuid().ToString("D"), 1e9 + i, i, -i));
            }
        }
        var bytes = new ServerMessageWriter().ZoneEnter(galaxy, ZoneId.ForSystem(1), 12, 7, 400, colonies).ToArray();

        Assert.True(new ProtocolVerifier().VerifyServerMessage(new ByteBuffer(bytes)));
        Assert.Equal(colonies.Count, ServerMessage.GetRootAsServerMessage(new ByteBuffer(bytes)).PayloadAsZoneEnter().ColoniesLength);
        Assert.InRange(bytes.Length, 1, new Sol.Transport.WebSocketServerOptions().MaxQueuedBytes / 4);
    }

    private ClientIntent Read(ArraySegment<byte> bytes)
    {
        // Split in two segments to exercise the multi-segment copy.
        var array = bytes.ToArray();
        var first = new Segment(array.AsMemory(0, array.Length / 2));
        var last = first.Append(array.AsMemory(array.Length / 2));
        Assert.True(_reader.TryRead(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), out var intent));
        return intent;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
