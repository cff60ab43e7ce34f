using Google.FlatBuffers;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.LoadGen.Tests;

public class BotTests
{
    [Fact]
    public void AnAckTimesEveryInputUpToItsSequenceOnce()
    {
        var m = new Measurements();
        using var http = new HttpClient();
        var bot = new Bot(0, Scenario.Idle, new LoadGenOptions(), http, m);
        bot.Receive(Welcome());
        bot.Receive(Enter(entity: 7));
        for (uint seq = 1; seq <= 5; seq++)
        {
            bot.Sent(seq);
        }
        bot.Receive(Ack(tick: 1, entity: 7, lastSeq: 3));
        Assert.Equal(3, m.InputToAck.TotalCount);
        bot.Receive(Ack(tick: 2, entity: 7, lastSeq: 3)); // the same seq again: nothing new
        Assert.Equal(3, m.InputToAck.TotalCount);
        bot.Receive(Ack(tick: 3, entity: 7, lastSeq: 5));
        Assert.Equal(5, m.InputToAck.TotalCount);
        Assert.Equal(1, m.ConnectToWelcome.TotalCount);
    }

    [Fact]
    public void SnapshotsAreCountedAndTheirGapsTimed()
    {
        var m = new Measurements();
        using var http = new HttpClient();
        var bot = new Bot(0, Scenario.Idle, new LoadGenOptions(), http, m);
        bot.Receive(Enter(entity: 7));
        for (ulong t = 1; t <= 10; t++)
        {
            bot.Receive(Snapshot(t, entity: 7));
        }
        Assert.Equal(10, m.Snapshots);
        Assert.Equal(9, m.SnapshotGap.TotalCount);
        bot.Receive(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 });
        Assert.Equal(1, m.Errors["protocol:invalid-message"]);
    }

    [Fact]
    public void HandlingSnapshotsAndAcksAllocatesNothing()
    {
        var m = new Measurements();
        using var http = new HttpClient();
        var bot = new Bot(0, Scenario.Idle, new LoadGenOptions(), http, m);
        bot.Receive(Enter(entity: 7));
        var snapshot = Snapshot(1, entity: 7);
        var ack = Ack(1, 7, 1);
        Assert.Equal(0, AllocationBudget.SteadyStateBytes(i =>
        {
            bot.Receive(snapshot);
            bot.Sent((uint)i);
            bot.Receive(ack);
        }));
    }

    [Fact]
    public void AColonizeIsTimedToTheColonyInfoNamingTheBotsColonyAndARefusalIsCounted()
    {
        var m = new Measurements();
        using var http = new HttpClient();
        var bot = new Bot(0, Scenario.Travel, new LoadGenOptions(), http, m);
        bot.Receive(Welcome()); // player id "player"
        bot.Receive(Enter(entity: 7));
        bot.ColonizeSent(31);
        bot.Receive(Colony("someone else")); // another player's colony, told to everyone there
        bot.Receive(Colony("player", planet: 32)); // the bot's colony on another planet (an older answer)
        Assert.Equal(0, m.Colonies);
        bot.Receive(Colony("player"));
        Assert.Equal(1, m.Colonies);
        Assert.Equal(1, m.ColonizeToColonyInfo.TotalCount);
        bot.Receive(Colony("player")); // not waiting for one: nothing more
        Assert.Equal(1, m.Colonies);

        bot.ColonizeSent(31);
        bot.Receive(Error(ErrorCode.NotEnoughCredits));
        Assert.Equal(1, m.ColonizesRefused);
        Assert.Equal(0, m.RequestsFailed); // the game's answer, not a failed request
        Assert.Equal(1, m.Errors["game:NotEnoughCredits"]);

        // A colonize whose transaction failed is answered BadRequest: a failed request, and the wait is over (helper-70).
        bot.ColonizeSent(31);
        bot.Receive(Error(ErrorCode.BadRequest));
        Assert.Equal(1, m.RequestsFailed);
        bot.Receive(Colony("player"));
        Assert.Equal(1, m.Colonies);
    }

    [Fact]
    public void AColonyInfoAllocatesNothingWhileTheBotWaits()
    {
        var m = new Measurements();
        using var http = new HttpClient();
        var bot = new Bot(0, Scenario.Travel, new LoadGenOptions(), http, m);
        bot.Receive(Welcome());
        bot.Receive(Enter(entity: 7));
        bot.ColonizeSent(31);
        var other = Colony("someone else");
        Assert.Equal(0, AllocationBudget.SteadyStateBytes(_ => bot.Receive(other)));
    }

    private static byte[] Colony(string owner, uint planet = 31)
    {
        var b = new FlatBufferBuilder(128);
        var c = ColonyInfo.CreateColonyInfo(b, planet, b.CreateString(owner), 12, 40, -5);
        return Finish(b, ServerPayload.ColonyInfo, c.Value);
    }

    private static byte[] Error(ErrorCode code)
    {
        var b = new FlatBufferBuilder(128);
        var e = Sol.Protocol.Error.CreateError(b, code, b.CreateString("refused"));
        return Finish(b, ServerPayload.Error, e.Value);
    }

    private static byte[] Welcome()
    {
        var b = new FlatBufferBuilder(128);
        var w = Sol.Protocol.Welcome.CreateWelcome(b, b.CreateString("client"), b.CreateString("player"), 1, 20, b.CreateString("sol.v1"));
        return Finish(b, ServerPayload.Welcome, w.Value);
    }

    private static byte[] Enter(uint entity)
    {
        var b = new FlatBufferBuilder(128);
        var e = ZoneEnter.CreateZoneEnter(b, ZoneKind.System, 1, 1, b.CreateString("Vega"), 0, entity, default, default, default, default, default);
        return Finish(b, ServerPayload.ZoneEnter, e.Value);
    }

    private static byte[] Snapshot(ulong tick, uint entity)
    {
        var b = new FlatBufferBuilder(256);
        Sol.Protocol.Snapshot.StartEventsVector(b, 0);
        var events = b.EndVector();
        Sol.Protocol.Snapshot.StartEntitiesVector(b, 2);
        EntityState.CreateEntityState(b, 5, 6, 0, 0, 0, 100, entity, EntityKind.Ship, 0, 0, 0);
        EntityState.CreateEntityState(b, 1, 2, 0, 0, 0, 100, entity + 1, EntityKind.Npc, 0, 0, 0);
        var entities = b.EndVector();
        var s = Sol.Protocol.Snapshot.CreateSnapshot(b, tick, tick / 20.0, ZoneKind.System, 1, entities, events);
        return Finish(b, ServerPayload.Snapshot, s.Value);
    }

    private static byte[] Ack(ulong tick, uint entity, uint lastSeq)
    {
        var b = new FlatBufferBuilder(64);
        return Finish(b, ServerPayload.Ack, Sol.Protocol.Ack.CreateAck(b, tick, entity, lastSeq).Value);
    }

    private static byte[] Finish(FlatBufferBuilder b, ServerPayload type, int payload)
    {
        b.Finish(ServerMessage.CreateServerMessage(b, type, payload).Value);
        return b.SizedByteArray();
    }
}
