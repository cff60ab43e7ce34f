using System.Buffers;
using System.Net.WebSockets;
using Sol.Core.Galaxy;
using Sol.Core.Protocol;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>
/// What a player's record says after a session is cut off at an awkward moment: the hub run tick by tick, so the
/// awkward moment is the test's choice and not a race.
/// </summary>
public sealed class SessionLifecycleTests : IDisposable
{
    private const long FirstOwner = 1; // the hub numbers its sessions from 1
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task AShipThatBurnsWhileItsPlayerIsDisconnectedPaysThePenaltyAndGoesHome()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        // 30 hull points: about 12 ticks of burning.
        var (connection, account) = await JoinInAStarAwayFromHomeAsync(game, hull: 30);
        game.Step();
        await game.Hub.OnClosedAsync(connection); // the connection drops: the session waits for a resume
        game.Step();

        // Nobody watches system 2 now, and the ship still burns out there.
        Assert.True(game.StepUntil(() => game.World.TryGetZoneOf(FirstOwner, out var zone) && zone == ZoneId.ForSystem(1)), "the ship was never sent home");
        var saved = await game.SavedAsync(account);
        Assert.Equal(900, saved.Credits);
        Assert.Equal(ZoneId.ForSystem(1), saved.Zone);
        Assert.Equal(game.Rules.Ships[0].Hull, saved.Hull);
    }

    [Fact]
    public async Task AShipThatBurnsOnItsFirstTickPaysThePenaltyAndGoesHome()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        // Next to nothing left of the hull: the ship is destroyed on the tick it is placed, before its session watches
        // the zone.
        var (connection, account) = await JoinInAStarAwayFromHomeAsync(game, hull: 0.01);

        Assert.True(game.StepUntil(() => game.World.TryGetZoneOf(FirstOwner, out var zone) && zone == ZoneId.ForSystem(1), ticks: 20), "the ship was never sent home");
        Assert.Equal(0, connection.Kept); // no tick that destroyed it was sent to it: it burned unwatched
        var saved = await game.SavedAsync(account);
        Assert.Equal(900, saved.Credits);
        Assert.Equal(ZoneId.ForSystem(1), saved.Zone);
    }

    [Fact]
    public async Task APlayerWhoLeavesInTheTickTheShipBurnsLeavesNoShipBehindAndStillPays()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), resumeGrace: TimeSpan.Zero);
        var (connection, account) = await JoinInAStarAwayFromHomeAsync(game, hull: 30);
        game.Step();

        // Step until the tick that destroys the ship; its connection ends before that tick's between-ticks pass.
        for (var i = 0; i < 2_000 && connection.Kept == 0; i++)
        {
            game.Step(pass: false);
            if (connection.Kept > 0)
            {
                await game.Hub.OnClosedAsync(connection);
            }
            game.Pass();
        }
        Assert.Equal(1, connection.Kept);

        Assert.True(game.StepUntil(() => game.World.ShipCount == 0 && ShipsInZones(game) == 0, ticks: 20), $"{ShipsInZones(game)} ships left in the zones");
        var saved = await game.SavedAsync(account);
        Assert.Equal(900, saved.Credits);
        Assert.Equal(ZoneId.ForSystem(1), saved.Zone);
    }

    [Fact]
    public async Task AShipThatBurnsInTheLastTickBeforeAShutdownStillPays()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var (connection, account) = await JoinInAStarAwayFromHomeAsync(game, hull: 30);
        game.Step();

        // The last tick destroys the ship; then the server stops, and its between-ticks pass never comes.
        for (var i = 0; i < 2_000 && connection.Kept == 0; i++)
        {
            game.Step(pass: false);
            if (connection.Kept == 0)
            {
                game.Pass();
            }
        }
        Assert.Equal(1, connection.Kept);
        game.Hub.ApplyPendingAfterStop();

        var saved = await game.SavedAsync(account);
        Assert.Equal(900, saved.Credits);
        Assert.Equal(ZoneId.ForSystem(1), saved.Zone);
    }

    [Fact]
    public async Task AColonizeStillInFlightAtAShutdownIsPaidForAndTheLastPositionIsSaved()
    {
        var (game, gated, connection, planet) = await ColonizeInFlightAsync();
        await using var owned = game;

        // The ship flies on while the transaction is in flight; then the server stops.
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Input(1, 1, 0.2f, false)));
        for (var i = 0; i < 20; i++)
        {
            game.Step();
        }
        Assert.True(game.World.TryGetZone(planet, out var zone));
        Assert.True(zone.TryGetShip(FirstOwner, out var ship));
        var last = (ship.X, ship.Y);
        Assert.NotEqual((0.0, 0.0), last);

        var stopping = game.Hub.ApplyPendingAfterStopAsync(TimeSpan.FromSeconds(30));
        Assert.False(stopping.IsCompleted); // it waits for the transaction's outcome
        gated.Release();
        await stopping;

        // Paid once, founded once, and the last position kept: the record staged at the stop carries the outcome and a
        // version newer than the transaction's.
        var saved = await game.SavedAsync(connection.Identity.AccountId);
        Assert.Equal(1000 - game.Rules.ColonizeCost, saved.Credits);
        Assert.Equal(last, (saved.X, saved.Y));
        Assert.Single(await game.ColoniesAsync(), c => c.PlanetId == planet.Id);
    }

    [Fact]
    public async Task AShutdownWaitsForAColonizeOnlyAsLongAsItsTimeoutAndSaysSo()
    {
        var log = new ListLogger();
        var (game, gated, _, _) = await ColonizeInFlightAsync(log);
        await using var owned = game;

        // The database never answers: the stop goes on after its timeout, and the warning says what may be missing.
        await game.Hub.ApplyPendingAfterStopAsync(TimeSpan.FromMilliseconds(50)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(log.Warnings, w => w.Contains("1 colonize transactions were still in flight", StringComparison.Ordinal));
        gated.Throw = new TimeoutException("the test's database never answered");
        gated.Release();
        await gated.Finished.WaitAsync(TimeSpan.FromSeconds(10)); // nothing left running against the store being disposed
    }

    [Fact]
    public async Task AColonizeThatEndsCanceledAtAShutdownStillLetsTheLastRecordsBeStaged()
    {
        var (game, gated, connection, planet) = await ColonizeInFlightAsync();
        await using var owned = game;
        for (var i = 0; i < 5; i++)
        {
            game.Step();
        }
        Assert.True(game.World.TryGetZone(planet, out var zone));
        Assert.True(zone.TryGetShip(FirstOwner, out var ship));

        // Not one of the failures ColonizeAsync expects: its task ends canceled. The stop must not throw for it (that
        // would skip the final flush of every player) and still stages the records.
        gated.Throw = new OperationCanceledException("canceled by the test");
        var stopping = game.Hub.ApplyPendingAfterStopAsync(TimeSpan.FromSeconds(30));
        gated.Release();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        var saved = await game.SavedAsync(connection.Identity.AccountId);
        Assert.Equal((ship.X, ship.Y), (saved.X, saved.Y));
        Assert.Equal(1000, saved.Credits); // nothing was paid
    }

    [Fact]
    public async Task APlayerWhoseLastStateIsStillUnwrittenComesBackToThatStateNotToTheOlderRow()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var connection = new CountingConnection(1);
        await game.SavePlayerAsync(connection.Identity.AccountId, ZoneId.ForSystem(1), 100, 100, hull: 100);
        var row = await game.SavedAsync(connection.Identity.AccountId);

        // The last session's final state is still in the write-behind (its leave's flush timed out in an outage, and
        // the next attempt has not come yet); the database is answering again.
        game.Progress.Stage(row with { Version = row.Version + 40, X = 5_000, Y = 4_000 });
        await game.Hub.OnConnectedAsync(connection);
        game.Pass();
        game.Step();

        Assert.True(game.World.TryGetZone(ZoneId.ForSystem(1), out var zone));
        Assert.True(zone.TryGetShip(FirstOwner, out var ship));
        // Where that state put it, moved on by one tick of its orbit (a few units; the older row is 6,000 away).
        Assert.InRange(Math.Sqrt(((ship.X - 5_000) * (ship.X - 5_000)) + ((ship.Y - 4_000) * (ship.Y - 4_000))), 0, 10);
    }

    [Fact]
    public async Task AReconnectIsNoBrake()
    {
        // helper-63: a join placed the saved ship at rest, stopping it from 420 u/s; now it keeps its saved velocity,
        // and a record at rest (a new player's) is placed on the orbit.
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var connection = new CountingConnection(1);
        await game.SavePlayerAsync(connection.Identity.AccountId, ZoneId.ForSystem(1), 20_000, 0, hull: 100);
        var row = await game.SavedAsync(connection.Identity.AccountId);
        await game.Store.SavePlayersAsync([row with { Vx = -250, Vy = 100, Version = row.Version + 1 }]);
        await game.Hub.OnConnectedAsync(connection);
        game.Pass();
        game.Step();
        Assert.True(game.World.TryGetZone(ZoneId.ForSystem(1), out var zone));
        Assert.True(zone.TryGetShip(FirstOwner, out var ship));
        Assert.Equal(-250, ship.VelocityX, 1);
        Assert.Equal(100, ship.VelocityY, 1);
    }

    [Fact]
    public async Task AnOlderInputCannotKeepTheEnginesRunningAfterADisconnect()
    {
        // helper-63: input seq 1,000,000 (full turn, fire), then seq 1, then a dropped socket: the session remembered 1,
        // the engines-off input of the disconnect carried it, the zone dropped it as stale, and the ship went on turning
        // and firing through the resume grace.
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        game.Step();
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Input(1_000_000, 0, 1, true)));
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Input(1, 0, 0, false)));
        game.Step();
        Assert.True(game.World.TryGetZone(ZoneId.ForSystem(1), out var zone));
        Assert.True(zone.TryGetShip(FirstOwner, out var flying));
        Assert.NotEqual(0, flying.AngularVelocity); // the newer input is in force

        await game.Hub.OnClosedAsync(connection);
        game.Step();
        game.Step();
        Assert.True(zone.TryGetShip(FirstOwner, out var waiting));
        Assert.Equal(0, waiting.AngularVelocity);
        Assert.Equal(Sol.Zones.State.EntityFlags.None, waiting.Flags & Sol.Zones.State.EntityFlags.Firing);
    }

    [Fact]
    public void AShipValueThatIsNotANumberKeepsTheLastGoodOneInThePlayersRecord()
    {
        var player = new Persistence.Model.PlayerRecord
        {
            Id = Guid.NewGuid(), AccountId = Guid.NewGuid(), GalaxyId = Guid.NewGuid(), Zone = ZoneId.ForSystem(1),
            X = 10, Y = 20, Vx = 1, Vy = 2, Rotation = 0.5, Hull = 80, ShipType = "scout", Version = 7,
        };
        var ship = new Sol.Zones.Simulation.EntityState(
            default, Sol.Zones.State.EntityKind.Ship, default, 0, FirstOwner, 0, 0,
            X: double.NaN, Y: 25, VelocityX: double.PositiveInfinity, VelocityY: 3, Rotation: float.NaN, AngularVelocity: 0, Hull: 75);

        // A simulation bug made some values NaN or infinite: those keep the last good ones, the rest is the ship's. The
        // record stays one the store can write, and so do the ones later changes (explored, route, credits) build on it.
        var staged = Game.GameHub.WithShip(player, ZoneId.ForSystem(2), ship);

        Assert.Equal((ZoneId.ForSystem(2), 10.0, 25.0, 1.0, 3.0, 0.5, 75.0), (staged.Zone, staged.X, staged.Y, staged.Vx, staged.Vy, staged.Rotation, staged.Hull));
    }

    [Fact]
    public async Task AJumpCompletedAfterTheConnectionDroppedExploresTheSystem()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), resumeGrace: TimeSpan.FromSeconds(0.5));
        var connection = new CountingConnection(1);
        var account = connection.Identity.AccountId;
        var gate = game.Galaxy.GatesOf(1)[0];
        await game.JoinAsync(connection, ZoneId.ForSystem(1), gate.X + 20, gate.Y, hull: 100);
        game.Step();
        await game.Hub.OnClosedAsync(connection);
        game.Step();

        // The Jump the client sent just before the drop is evaluated only now.
        Assert.True(game.World.RequestJump(FirstOwner, 1, gate.Id));
        var target = ZoneId.ForSystem(gate.TargetSystemId);
        Assert.True(game.StepUntil(() => game.World.TryGetZoneOf(FirstOwner, out var zone) && zone == target, ticks: 20), "the jump did not happen");
        // The grace ends without a resume: the session leaves and its record is saved.
        Assert.True(game.StepUntil(() => game.World.ShipCount == 0, ticks: 40), "the session never left");
        var saved = await game.SavedAsync(account);
        Assert.Equal(target, saved.Zone);
        Assert.Contains(gate.TargetSystemId, saved.Explored);
    }

    [Fact]
    public async Task APlayerWhoseProgressTheDatabaseRefusesIsNamedWhenItLeaves()
    {
        var log = new ListLogger();
        var (game, refusing) = await StartWithRefusingProgressAsync(log);
        await using var owned = game;
        var kept = new CountingConnection(1);
        var refused = new CountingConnection(2);
        await game.JoinAsync(kept, ZoneId.ForSystem(1), 5_000, 5_000, hull: 100);
        await game.JoinAsync(refused, ZoneId.ForSystem(1), -5_000, 5_000, hull: 100);
        game.Step();
        var keptRecord = await game.SavedAsync(kept.Identity.AccountId);
        var refusedRecord = await game.SavedAsync(refused.Identity.AccountId);
        refusing.Refuse = refusedRecord.Id;

        // Both in one flush: the database takes one and refuses the other, which the write-behind keeps apart.
        game.Progress.Stage(keptRecord with { Version = 5 });
        game.Progress.Stage(refusedRecord with { Version = 5 });
        await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(game.Progress.IsRefused(refusedRecord.Id));

        // Both leave (their grace ends without a resume); only the refused one is named, and its state is still kept.
        await game.Hub.OnClosedAsync(kept);
        await game.Hub.OnClosedAsync(refused);
        Assert.True(game.StepUntil(() => game.World.ShipCount == 0, ticks: 40), "the sessions never left");
        await Eventually.TrueAsync(
            () => log.Warnings.Any(w => w.Contains("left with progress the database refuses", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the refused player named");
        Assert.Single(log.Warnings, w => w.Contains("left with progress the database refuses", StringComparison.Ordinal) &&
            w.Contains(refusedRecord.Id.ToString(), StringComparison.Ordinal));
        Assert.True(game.Progress.IsRefused(refusedRecord.Id));
    }

    [Fact]
    public async Task APlayerAloneWhoseProgressTheDatabaseRefusesIsNamedWhenItLeaves()
    {
        var log = new ListLogger();
        var (game, refusing) = await StartWithRefusingProgressAsync(log);
        await using var owned = game;
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForSystem(1), 5_000, 5_000, hull: 100);
        game.Step();
        var record = await game.SavedAsync(connection.Identity.AccountId);
        var offline = Guid.NewGuid();
        await game.SavePlayerAsync(offline, ZoneId.ForSystem(1), 0, 0, hull: 100);
        game.Progress.Stage(await game.SavedAsync(offline) with { Version = 5 }); // the database takes this server's writes
        await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        refusing.Refuse = record.Id;

        // Its leave's flush holds it alone, and nothing of it goes in; the database still takes the state it took
        // before, so the refusal is the row's: the leave completes and names it.
        await game.Hub.OnClosedAsync(connection);
        Assert.True(game.StepUntil(() => game.World.ShipCount == 0, ticks: 40), "the session never left");
        await Eventually.TrueAsync(
            () => log.Warnings.Any(w => w.Contains("left with progress the database refuses", StringComparison.Ordinal) && w.Contains(record.Id.ToString(), StringComparison.Ordinal)),
            TimeSpan.FromSeconds(5), "the refused player named");
        Assert.False(game.Progress.InOutage);
    }

    [Fact]
    public async Task AColonizeIsNotTriedForAPlayerWhoseProgressTheDatabaseRefuses()
    {
        RefusingStore? refusing = null;
        GatedColonizeStore? gated = null;
        await using var game = await HubHarness.StartAsync(
            _directory.File("sol.db"), hubStore: s => gated = new GatedColonizeStore(s), progressStore: s => refusing = new RefusingStore(s));
        var (connection, planet) = await LandAsync(game);
        var record = await game.SavedAsync(connection.Identity.AccountId);
        game.Progress.Stage(record with { Version = 5 }); // the database takes this server's writes...
        await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        (refusing!.Refuse, refusing.FromVersion) = (record.Id, 6); // ...but no longer this player's
        game.Progress.Stage(record with { Version = 6 });
        await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(game.Progress.IsRefused(record.Id));

        // The row is older than the game's state: a colony founded on its credits would be wrong. The client is told.
        var told = connection.Reliable;
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return connection.Reliable > told;
        }, TimeSpan.FromSeconds(10), "the colonize's answer");
        Assert.False(gated!.Entered.IsCompleted);
        Assert.Empty(await game.ColoniesAsync());
    }

    [Fact]
    public async Task ATravelRequestAfterABurnAwayFromHomeIsRefusedAsDestroyedUntilTheHomeZoneEnter()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var connection = new CountingConnection(1);
        await BurnInSystem2Async(game, connection, async () =>
        {
            var home = new CountingConnection(2); // someone watches system 1, as with many players sharing a home system
            await game.JoinAsync(home, ZoneId.ForSystem(1), game.World.GetZone(ZoneId.ForSystem(1)).RespawnX + 500, 0, hull: 100);
        });

        // The destroying tick shows the ship respawned in system 2 at its first gate; the pass moves it home. A client
        // near that gate asks to jump through it before it is told of system 1 (before: judged in system 1, which has
        // no such gate: UnknownTarget, for a zone the client never entered).
        game.Pass();
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Jump((uint)game.Galaxy.GatesOf(2)[0].Id)));
        Assert.Equal("Error:Destroyed", connection.Log[^1]);
        Assert.True(game.StepUntil(() => connection.Log.Contains("ZoneEnter:1"), ticks: 20), "never entered its home system");
        for (var i = 0; i < 5; i++)
        {
            game.Step();
        }
        Assert.DoesNotContain("Error:UnknownTarget", connection.Log);

        // Once entered, its requests are judged in system 1 again.
        var told = connection.Log.Count;
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Jump((uint)game.Galaxy.GatesOf(2)[0].Id)));
        Assert.True(game.StepUntil(() => connection.Log.Count > told, ticks: 5), "no answer");
        Assert.Equal("Error:UnknownTarget", connection.Log[^1]); // system 2's gate is not one of system 1's
    }

    [Fact]
    public async Task ARouteAskedForAfterABurnAwayFromHomeStartsAtHome()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var connection = new CountingConnection(1);
        await BurnInSystem2Async(game, connection);

        // Burned in system 2 and not yet home: a route asked for now is for the ship that respawns in system 1 (before:
        // planned from system 2, the zone it burned in).
        var destination = game.Galaxy.Systems.Select(s => s.Id).Last(id => id is not 1 and not 2);
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().SetRoute([], (uint)destination)));
        Assert.True(game.StepUntil(() => connection.Log.Contains("ZoneEnter:1"), ticks: 20), "never entered its home system");
        var route = game.Hub.LivePlayer(connection.Identity.AccountId)!.Value.Player.Route;
        Assert.Equal(GalaxyRoutes.ShortestRoute(game.Galaxy, 1, destination), route);
    }

    /// <summary>
    /// Joins <paramref name="connection"/>'s player (home: system 1) inside system 2's star with 30 hull, and steps until
    /// the destroying step, whose pass has not run yet (<paramref name="before"/> runs after the join).
    /// </summary>
    private static async Task BurnInSystem2Async(HubHarness game, CountingConnection connection, Func<Task>? before = null)
    {
        var star = game.Galaxy.StarsOf(2)[0];
        await game.JoinAsync(connection, ZoneId.ForSystem(2), star.X + (star.DamageRadius * 0.5), star.Y, hull: 30);
        if (before is not null)
        {
            await before();
        }
        for (var i = 0; i < 200 && connection.Kept == 0; i++)
        {
            game.Step(pass: false);
            if (connection.Kept == 0)
            {
                game.Pass();
            }
        }
        Assert.True(connection.Kept > 0, "the ship never burned");
    }

    [Fact]
    public async Task AShipThatBurnsOnItsFirstTickAwayFromHomeIsRelocatingToo()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var home = new CountingConnection(2);
        await game.JoinAsync(home, ZoneId.ForSystem(1), game.World.GetZone(ZoneId.ForSystem(1)).RespawnX + 500, 0, hull: 100);
        var connection = new CountingConnection(1);
        var star = game.Galaxy.StarsOf(2)[0];
        await game.JoinAsync(connection, ZoneId.ForSystem(2), star.X + (star.DamageRadius * 0.5), star.Y, hull: 1);

        // Spawned and burned in one step: the pass enters it into system 2, then moves it home (before: entering system
        // 2 cleared the flag the step had set, and the Jump was judged in system 1: UnknownTarget).
        game.Step();
        Assert.Contains("ZoneEnter:2", connection.Log);
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Jump((uint)game.Galaxy.GatesOf(2)[0].Id)));
        Assert.Equal("Error:Destroyed", connection.Log[^1]);
        Assert.True(game.StepUntil(() => connection.Log.Contains("ZoneEnter:1"), ticks: 20), "never entered its home system");
        Assert.DoesNotContain("Error:UnknownTarget", connection.Log);
    }

    [Fact]
    public async Task ASessionReplacingOneWithAColonizeInFlightStartsWithTheColonysPricePaid()
    {
        var (game, gated, first, planet) = await ColonizeInFlightAsync();
        await using var owned = game;
        var account = first.Identity.AccountId;
        var credits = game.Hub.LivePlayer(account)!.Value.Player.Credits;

        // The player opens the game again (a reload, another tab) while the database holds the transaction. When it
        // commits, the credits are taken in the database and the colony founded. Before, the new session had loaded the
        // row from before it and went on with those credits (and saved them back).
        var replacing = game.Hub.OnConnectedAsync(new CountingConnection(2, account));
        await game.Hub.OnClosedAsync(first);
        await WaitsForTheColonizeAsync(game, gated, replacing, account, planet, credits - game.Rules.ColonizeCost);
        for (var i = 0; i < 3; i++)
        {
            game.Step();
            await game.Hub.ApplyPendingAfterStopAsync(TimeSpan.Zero);
            await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(credits - game.Rules.ColonizeCost, (await game.SavedAsync(account)).Credits);
    }

    [Fact]
    public async Task AReconnectAfterTheOldConnectionClosedWaitsForItsColonizeToo()
    {
        // As above, but the old connection has closed before the new one arrives, with no resume grace (--resume-grace
        // 0; the same for a session kicked for an expired token, or one whose grace ended): before, the closed session
        // was no longer the account's, so the reconnect did not wait and kept the credits (helper-48).
        var (game, gated, first, planet) = await ColonizeInFlightAsync(resumeGrace: TimeSpan.Zero);
        await using var owned = game;
        var account = first.Identity.AccountId;
        var credits = game.Hub.LivePlayer(account)!.Value.Player.Credits;

        await game.Hub.OnClosedAsync(first);
        game.Step(); // its leave is applied, and waits for the colonize
        var replacing = game.Hub.OnConnectedAsync(new CountingConnection(2, account));
        await WaitsForTheColonizeAsync(game, gated, replacing, account, planet, credits - game.Rules.ColonizeCost);
    }

    [Fact]
    public async Task AColonizeOutcomeAfterItsSessionLeftIsPaidByTheSessionThatFollows()
    {
        // The leave stops waiting for the outcome (12 s in production): the next session loads the player without the
        // price. Before, the late outcome staged the old session's record over the new one's, and the new one's later
        // saves wrote its credits back without the price: a free colony (helper-52).
        var (game, gated, first, planet) = await ColonizeInFlightAsync(resumeGrace: TimeSpan.Zero);
        await using var owned = game;
        game.Hub.LeaveColonizeWait = TimeSpan.FromMilliseconds(50);
        var account = first.Identity.AccountId;
        var credits = game.Hub.LivePlayer(account)!.Value.Player.Credits;
        await game.Hub.OnClosedAsync(first);
        game.Step();
        var replacing = game.Hub.OnConnectedAsync(new CountingConnection(2, account));
        for (var i = 0; i < 400 && !replacing.IsCompleted; i++)
        {
            game.Step();
            await Task.Delay(5);
        }
        await replacing.WaitAsync(TimeSpan.FromSeconds(10));
        game.Step();
        Assert.Equal(credits, game.Hub.LivePlayer(account)!.Value.Player.Credits); // loaded before the outcome

        gated.Release();
        await gated.Finished.WaitAsync(TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return game.Hub.LivePlayer(account)!.Value.Player.Credits < credits;
        }, TimeSpan.FromSeconds(10), "the outcome to reach the new session");
        Assert.Single(await game.ColoniesAsync(), c => c.PlanetId == planet.Id);
        Assert.Equal(credits - game.Rules.ColonizeCost, game.Hub.LivePlayer(account)!.Value.Player.Credits);
        for (var i = 0; i < 3; i++)
        {
            game.Step();
            await game.Hub.ApplyPendingAfterStopAsync(TimeSpan.Zero);
            await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        var saved = await game.SavedAsync(account);
        Assert.Equal(credits - game.Rules.ColonizeCost, saved.Credits);
    }

    [Fact]
    public async Task ARouteAskedForJustBeforeTheLeaveDoesNotChangeTheLeftRecord()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), resumeGrace: TimeSpan.Zero);
        var first = new CountingConnection(1);
        await game.JoinAsync(first, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        game.Step();
        var account = first.Identity.AccountId;

        // The route and the close reach the same pass: the leave first. Before, the route was applied to the left
        // session and staged one version up, over what a session that follows loads and saves (helper-52).
        var destination = game.Galaxy.Systems.Select(s => s.Id).Last(id => id != 1);
        game.Hub.OnMessage(first, new ReadOnlySequence<byte>(new ClientMessageWriter().SetRoute([], (uint)destination)));
        await game.Hub.OnClosedAsync(first);
        game.Step();
        await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty((await game.SavedAsync(account)).Route);
    }

    [Fact]
    public async Task AReconnectAfterANormalCloseDoesNotWaitForTheWriteBehindsFlush()
    {
        // Grace 0 and a database holding every write: the new session finds the old one's last state staged (Newest),
        // so it waits for the old one to leave, not for its state to be written (helper-49: it waited for the flush).
        HeldStore? held = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), resumeGrace: TimeSpan.Zero, progressStore: s => held = new HeldStore(s));
        var first = new CountingConnection(1);
        await game.JoinAsync(first, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        game.Step();
        game.Step();
        held!.Hold();
        try
        {
            await game.Hub.OnClosedAsync(first);
            game.Step(); // its leave is applied: staged, ship removed, a flush asked for (its write held)
            await Eventually.TrueAsync(() => held.Waiting > 0, TimeSpan.FromSeconds(10), "the leave's write to be held");
            var reconnect = game.Hub.OnConnectedAsync(new CountingConnection(2, first.Identity.AccountId));
            await Eventually.TrueAsync(() =>
            {
                game.Step();
                return reconnect.IsCompleted;
            }, TimeSpan.FromSeconds(10), "the reconnect, while the old session's write is still held");
            await reconnect;
        }
        finally
        {
            held.Release();
        }
    }

    [Fact]
    public async Task ALogoutRacingAResumeStillEndsTheSession()
    {
        var (game, account, live) = await DetachedAsync();
        await using var owned = game;

        // The page reconnects with its client id while the account logs out: the logout lands in a pass after its
        // detaches and before its resumes (helper-49: the session was resumed anyway, and played on after the 204).
        var second = new CountingConnection(2, account, live.ClientId);
        var resuming = game.Hub.OnConnectedAsync(second);
        await Eventually.TrueAsync(() => game.Hub.PendingResumes > 0, TimeSpan.FromSeconds(10), "the resume to be queued");
        game.Hub.ApplyDetachesForTests(game.World.Tick);
        Assert.True(game.Hub.EndSession(account));
        game.Hub.ApplyResumesForTests();
        for (var i = 0; i < 400 && !resuming.IsCompleted; i++)
        {
            game.Step();
            await Task.Delay(5);
        }
        await resuming.WaitAsync(TimeSpan.FromSeconds(10));
        game.Step();

        // Not the logged-out session: the arrival got a new one (tokens are not revoked; the page forgets its own).
        Assert.NotEqual(live.ClientId, game.Hub.LivePlayer(account)?.ClientId);
    }

    [Fact]
    public async Task ALogoutBetweenAResumesCheckAndItsAttachClosesTheNewConnection()
    {
        var (game, account, live) = await DetachedAsync();
        await using var owned = game;

        // The logout lands after the resume found the session detached and not kicked, before the new connection is
        // attached: it closes the old connection only (helper-52: the resumed session then played on after the 204).
        var second = new CountingConnection(2, account, live.ClientId);
        game.Hub.ResumeCheckedHook = () => Assert.True(game.Hub.EndSession(account));
        var resuming = game.Hub.OnConnectedAsync(second);
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return resuming.IsCompleted;
        }, TimeSpan.FromSeconds(10), "the resume");
        await resuming;
        game.Hub.ResumeCheckedHook = null;
        game.Step();

        Assert.Equal((WebSocketCloseStatus)4002, second.ClosedWith);
        // Its connection closing is its end: saved and removed, no resume grace.
        await game.Hub.OnClosedAsync(second);
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return game.Hub.LivePlayer(account) is null;
        }, TimeSpan.FromSeconds(10), "the logged-out session to leave");
    }

    [Fact]
    public async Task CostlyRequestsBeyondTheirOwnBudgetAreAnsweredTooManyRequestsAndTheConnectionStays()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        game.Step();
        var destination = (uint)game.Galaxy.Systems[^1].Id;

        // Routes are a search of the whole gate graph each, on the receive thread: before, a client could ask for one with
        // every message of its 60-a-second budget.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < 30; i++)
        {
            game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().SetRoute([], destination)));
        }
        var refilled = Math.Ceiling(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds * Sol.Server.Game.GameHub.RequestRate);
        var throttled = connection.Log.Count(e => e == "Error:TooManyRequests");
        Assert.InRange(throttled, 30 - Sol.Server.Game.GameHub.RequestBurst - refilled, 30 - Sol.Server.Game.GameHub.RequestBurst);
        Assert.Null(connection.ClosedWith);

        // The same budget for colonize (a route first takes any token refilled meanwhile); a reauth, inputs and pings are
        // not in it.
        var colonizeThrottled = false;
        for (var i = 0; i < 5 && !colonizeThrottled; i++)
        {
            game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().SetRoute([], destination)));
            game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
            colonizeThrottled = connection.Log[^1] == "Error:TooManyRequests";
        }
        Assert.True(colonizeThrottled);
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Ping(7)));
        Assert.Equal("Pong", connection.Log[^1]);
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Reauth("not-a-token")));
        await Eventually.TrueAsync(() => connection.Log[^1] == "Error:TokenRejected", TimeSpan.FromSeconds(10), "the reauth to be checked (and refused)");
        Assert.Null(connection.ClosedWith);
    }

    [Fact]
    public async Task APlanetHoldsAtMostTheRulesColoniesCountingThoseInFlight()
    {
        GatedColonizeStore? gated = null;
        await using var game = await HubHarness.StartAsync(
            _directory.File("sol.db"), hubStore: s => gated = new GatedColonizeStore(s), rules: r => r with { ColoniesPerPlanet = 2 });
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var pilots = new CountingConnection[3];
        for (var i = 0; i < pilots.Length; i++)
        {
            pilots[i] = new CountingConnection(i + 1);
            await game.JoinAsync(pilots[i], planet, 10 * i, 0, hull: 100);
        }
        game.Step();
        var credits = game.Hub.LivePlayer(pilots[2].Identity.AccountId)!.Value.Player.Credits;

        // Two transactions in flight fill the planet; the third is refused at once, before any database work.
        game.Hub.OnMessage(pilots[0], new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Hub.OnMessage(pilots[1], new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        await Eventually.TrueAsync(() => gated!.EnteredCount == 2, TimeSpan.FromSeconds(10), "both transactions to start");
        game.Hub.OnMessage(pilots[2], new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        Assert.Equal("Error:PlanetFull", pilots[2].Log[^1]);
        Assert.Equal(2, gated!.EnteredCount);

        gated.Release();
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return pilots.Take(2).All(p => game.Hub.LivePlayer(p.Identity.AccountId)!.Value.Player.Credits < credits);
        }, TimeSpan.FromSeconds(10), "both colonies' prices");

        // Founded, the two still fill it.
        game.Hub.OnMessage(pilots[2], new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        Assert.Equal("Error:PlanetFull", pilots[2].Log[^1]);
        Assert.Equal(2, (await game.ColoniesAsync()).Count(c => c.PlanetId == planet.Id));
        Assert.Equal(credits, game.Hub.LivePlayer(pilots[2].Identity.AccountId)!.Value.Player.Credits);

        // Another planet has room.
        var other = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(2)[0].Id);
        var elsewhere = new CountingConnection(4);
        await game.JoinAsync(elsewhere, other, 0, 0, hull: 100);
        game.Step();
        game.Hub.OnMessage(elsewhere, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return game.Hub.LivePlayer(elsewhere.Identity.AccountId)!.Value.Player.Credits < credits;
        }, TimeSpan.FromSeconds(10), "the colony on the other planet");
        Assert.Single(await game.ColoniesAsync(), c => c.PlanetId == other.Id);
    }

    [Fact]
    public async Task ColoniesReadAtAStartStandWhereTheyWereFoundedAndBelongToTheirOwners()
    {
        // Before, the colonies a server read at its start were listed in ZoneEnters but never placed on their planets:
        // every colony vanished from the surface at a restart (helper-59).
        var planet = GalaxyGenerator.Generate("main", GalaxyParameters.Default(6, 2)).PlanetsOf(1)[0].Id;
        var owner = Guid.NewGuid();
        var founded = DateTimeOffset.UtcNow.AddHours(-1);
        Colony[] colonies =
        [
            new(Guid.Empty, planet, owner, founded, 12.5, -7.25),
            new(Guid.Empty, planet, Guid.NewGuid(), founded.AddMinutes(5), -40, 3),
        ];
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), colonies: colonies);
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForPlanet(planet), 0, 0, hull: 100, playerId: owner);
        game.Step();
        game.Step();

        Assert.True(game.World.TryGetZone(ZoneId.ForPlanet(planet), out var zone));
        var snapshot = zone.GetSnapshot();
        var bodies = new List<(double, double)>();
        foreach (var entity in snapshot.Entities)
        {
            if (entity.Kind == Sol.Zones.State.EntityKind.Colony)
            {
                bodies.Add((entity.X, entity.Y));
            }
        }
        Assert.Equal([(12.5, -7.25), (-40.0, 3.0)], bodies);
        foreach (var e in snapshot.Events)
        {
            Assert.NotEqual(Sol.Zones.Simulation.ZoneEventKind.Colonized, e.Kind); // placed, not founded now
        }
        Assert.Equal([(uint)planet], connection.Colonies);
        Assert.Equal(2, connection.ZoneColonies);
    }

    [Fact]
    public async Task APlanetShowsAtMostTheLargestColonyLimitWhateverTheDatabaseHolds()
    {
        // More than any rules allow (a database filled some other way, or a limit lowered): the oldest 256 are shown, so
        // the planet's snapshots and its system's ZoneEnter stay bounded (helper-59: 16,000 made the ZoneEnter exceed the
        // send backlog, and every player entering the system was closed with 1008).
        var planet = GalaxyGenerator.Generate("main", GalaxyParameters.Default(6, 2)).PlanetsOf(1)[0].Id;
        var founded = DateTimeOffset.UtcNow.AddDays(-1);
        var colonies = Enumerable.Range(0, Sol.Server.Assets.GameRules.MaxColoniesPerPlanet + 44)
            .Select(i => new Colony(Guid.Empty, planet, Guid.NewGuid(), founded.AddSeconds(i), i, 0))
            .Reverse()
            .ToList();
        var log = new ListLogger();
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), colonies: colonies, log: log);
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, ZoneId.ForPlanet(planet), 0, 0, hull: 100);
        game.Step();
        game.Step();

        Assert.Equal(Sol.Server.Assets.GameRules.MaxColoniesPerPlanet, connection.ZoneColonies);
        Assert.True(game.World.TryGetZone(ZoneId.ForPlanet(planet), out var zone));
        var shown = new List<double>();
        foreach (var entity in zone.GetSnapshot().Entities)
        {
            if (entity.Kind == Sol.Zones.State.EntityKind.Colony)
            {
                shown.Add(entity.X);
            }
        }
        Assert.Equal(Enumerable.Range(0, Sol.Server.Assets.GameRules.MaxColoniesPerPlanet).Select(i => (double)i), shown.Order()); // the oldest
        Assert.Single(log.Warnings, w => w.Contains("44 colonies are not shown", StringComparison.Ordinal));

        // And the planet is full: nobody founds another.
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        Assert.Equal("Error:PlanetFull", connection.Log[^1]);
    }

    [Fact]
    public async Task RequestsBeforeTheShipIsInAZoneAreAnsweredNotDropped()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var connection = new CountingConnection(1);
        await game.SavePlayerAsync(connection.Identity.AccountId, planet, 0, 0, hull: 100);
        await game.Hub.OnConnectedAsync(connection); // Welcome and PlayerState sent; the join is queued, no ship yet

        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().TakeOff()));
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Jump(1)));
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Pass();

        // Before (helper-59): no answer to any of them.
        Assert.Equal(["Welcome", "PlayerState", "Error:BadRequest", "Error:BadRequest", "Error:BadRequest"], connection.Log.Take(5));
        Assert.Equal(0, game.Hub.ColonizesRunning);
    }

    [Fact]
    public async Task AColonizeThatFailsUnexpectedlyGivesItsPlacesBack()
    {
        // helper-60: an exception ColonizeAsync did not expect left no outcome, so the planet's place and the player's
        // one-colonize-at-a-time slot stayed taken until a restart.
        GatedColonizeStore? gated = null;
        var log = new ListLogger();
        await using var game = await HubHarness.StartAsync(
            _directory.File("sol.db"), hubStore: s => gated = new GatedColonizeStore(s) { Throw = new ArgumentException("a store's bug (test)") },
            rules: r => r with { ColoniesPerPlanet = 1 }, log: log);
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var first = new CountingConnection(1);
        var second = new CountingConnection(2);
        await game.JoinAsync(first, planet, 0, 0, hull: 100);
        await game.JoinAsync(second, planet, 5, 0, hull: 100);
        game.Step();
        gated!.Release();

        game.Hub.OnMessage(first, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return first.Log[^1] == "Error:BadRequest";
        }, TimeSpan.FromSeconds(10), "the failed colonize's answer");
        Assert.Single(log.Warnings, w => w.Contains("colonize of planet", StringComparison.Ordinal));

        gated.Throw = null;
        game.Hub.OnMessage(second, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize())); // the place is free
        game.Hub.OnMessage(first, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize())); // and so is its slot
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return game.Hub.LivePlayer(second.Identity.AccountId)!.Value.Player.Credits < 1000;
        }, TimeSpan.FromSeconds(10), "the second player's colony");
        // (Not necessarily its last message: the second's colony is told to everyone on the planet as a ColonyInfo.)
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return first.Log.Contains("Error:PlanetFull");
        }, TimeSpan.FromSeconds(10), "the first player's answer: the planet is full now");
    }

    [Fact]
    public async Task ALogoutWhileTheConnectionIsBeingSetUpEndsItsSessionOnceItIsThere()
    {
        // helper-60: the token was checked at the handshake; a logout before the session was registered found nothing
        // to end, and the session played on with a logged-out token.
        LoadingStore? loading = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), directoryStore: s => loading = new LoadingStore(s));
        var connection = new CountingConnection(1);
        await game.SavePlayerAsync(connection.Identity.AccountId, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        loading!.Hold();
        var arriving = game.Hub.OnConnectedAsync(connection);

        game.Tokens.LogOut(connection.Identity.SessionId); // what POST /api/auth/logout does, in its order
        Assert.False(game.Hub.EndSession(connection.Identity.AccountId, connection.Identity.SessionId)); // nothing to end yet
        loading.Release();
        await arriving.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(Sol.Server.Game.GameHub.LoggedOut, connection.ClosedWith);
        await game.Hub.OnClosedAsync(connection); // the socket closes
        game.Pass();
        Assert.Null(game.Hub.LivePlayer(connection.Identity.AccountId)); // left at once: no resume grace
    }

    [Fact]
    public async Task NothingALoggedOutSessionAskedForIsCarriedOut()
    {
        GatedColonizeStore? gated = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), hubStore: s => gated = new GatedColonizeStore(s));
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var leaving = new CountingConnection(1);
        var staying = new CountingConnection(2);
        await game.JoinAsync(leaving, planet, 0, 0, hull: 100);
        await game.JoinAsync(staying, planet, 10, 0, hull: 100);
        game.Step();

        // Asked for just before the logout (one pass applies both), and after it (its connection is closing: before, the
        // transport handed the hub its messages until the client's close frame or 5 s, and the colony was founded).
        game.Hub.OnMessage(leaving, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        Assert.True(game.Hub.EndSession(leaving.Identity.AccountId));
        game.Hub.OnMessage(leaving, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Hub.OnMessage(staying, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();

        Assert.Equal(1, game.Hub.ColonizesRunning); // the other player's only
        Assert.Equal(Sol.Server.Game.GameHub.LoggedOut, leaving.ClosedWith);
        gated!.Release();
    }

    [Fact]
    public async Task AColonizeAskedForWhileOneIsInFlightIsRefusedAndOnlyOneIsPaid()
    {
        var (game, gated, connection, planet) = await ColonizeInFlightAsync();
        await using var owned = game;
        var account = connection.Identity.AccountId;
        var credits = game.Hub.LivePlayer(account)!.Value.Player.Credits;

        // Before, each started its own flush and transaction (the database then refused all but the first).
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        Assert.Equal("Error:TooManyRequests", connection.Log[^1]);

        gated.Release();
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return game.Hub.LivePlayer(account)!.Value.Player.Credits < credits;
        }, TimeSpan.FromSeconds(10), "the colony's price");
        Assert.Single(await game.ColoniesAsync(), c => c.PlanetId == planet.Id);
        Assert.Equal(credits - game.Rules.ColonizeCost, game.Hub.LivePlayer(account)!.Value.Player.Credits);
    }

    [Fact]
    public async Task AColonyStandsWhereItsShipWasWhenAskedForEvenIfTheShipHasLeft()
    {
        GatedColonizeStore? gated = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), resumeGrace: TimeSpan.Zero, hubStore: s => gated = new GatedColonizeStore(s));
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, planet, 120, -80, hull: 100);
        game.Step();
        var ship = Find(game, planet, Sol.Zones.State.EntityKind.Ship)!.Value;
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        await gated!.Entered.WaitAsync(TimeSpan.FromSeconds(10));

        // The founder leaves while the transaction is in flight: its ship is gone when the colony is founded. Before,
        // the colony was then placed at (0, 0).
        await game.Hub.OnClosedAsync(connection);
        game.Step();
        gated.Release();
        await gated.Finished.WaitAsync(TimeSpan.FromSeconds(10));
        game.Step(); // the outcome is applied: the colony is spawned in the (now empty, asleep) planet zone
        game.Step();
        // A visitor wakes the zone, whose snapshots then show the colony.
        await game.JoinAsync(new CountingConnection(2), planet, -300, 300, hull: 100);
        await Eventually.TrueAsync(() =>
        {
            game.Step();
            return Find(game, planet, Sol.Zones.State.EntityKind.Colony) is not null;
        }, TimeSpan.FromSeconds(10), "the colony in the planet's zone");
        var colony = Find(game, planet, Sol.Zones.State.EntityKind.Colony)!.Value;
        Assert.Equal((ship.X, ship.Y), (colony.X, colony.Y));
        Assert.NotEqual((0.0, 0.0), (colony.X, colony.Y));

        static Sol.Zones.Simulation.EntityState? Find(HubHarness game, ZoneId zone, Sol.Zones.State.EntityKind kind)
        {
            foreach (var e in game.World.GetZone(zone).GetSnapshot().Entities)
            {
                if (e.Kind == kind)
                {
                    return e;
                }
            }
            return null;
        }
    }

    [Fact]
    public async Task AnArrivalWhosePlayerTheDatabaseDoesNotLoadInTimeIsToldToTryAgainLater()
    {
        // Before, the arrival waited for the database without a bound, holding its account's turn and a connection that
        // got no Welcome; a database that refused was a crash of the connection (1011) logged at debug level.
        var log = new ListLogger();
        LoadingStore? loading = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), log: log, directoryStore: s => loading = new LoadingStore(s));
        loading!.Hold();
        game.Hub.ArrivalBudget = TimeSpan.FromMilliseconds(300); // the load still gets its 2 s at least
        var connection = new CountingConnection(1);
        await game.Hub.OnConnectedAsync(connection).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(Sol.Server.Game.GameHub.TryAgainLater, connection.ClosedWith);
        Assert.Empty(connection.Log); // no Welcome
        Assert.Single(log.Warnings, w => w.Contains("could not be loaded (no answer within 2 s)", StringComparison.Ordinal));

        // The account's turn was given back: its next arrival is served once the database answers.
        game.Hub.ArrivalBudget = TimeSpan.FromSeconds(25);
        loading.Release();
        var again = new CountingConnection(2, connection.Identity.AccountId);
        await game.Hub.OnConnectedAsync(again).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Null(again.ClosedWith);
        Assert.Equal("Welcome", again.Log[0]);
    }

    [Fact]
    public async Task AnArrivalWhoseDatabaseIsUnreachableIsToldToTryAgainLaterInOneLine()
    {
        var log = new ListLogger();
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), log: log, directoryStore: s => new LoadingStore(s) { Unreachable = true });
        var connection = new CountingConnection(1);
        await game.Hub.OnConnectedAsync(connection).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(Sol.Server.Game.GameHub.TryAgainLater, connection.ClosedWith);
        Assert.Single(log.Warnings, w => w.Contains("could not be loaded (cannot reach the database (test))", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARowReadWhileTwoFlushesFinishedIsReadAgainAndTheArrivalGetsTheStateTheyWrote()
    {
        // helper-52's race: a slow read began before this player's last state was committed, and by its end a second
        // flush had replaced the first as the last batch written, so nothing here was newer than the stale row.
        ReadingStore? reading = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), directoryStore: s => reading = new ReadingStore(s));
        var account = Guid.NewGuid();
        var bystander = Guid.NewGuid();
        await game.SavePlayerAsync(account, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        await game.SavePlayerAsync(bystander, ZoneId.ForSystem(1), 2000, 0, hull: 100);
        var other = (await game.SavedAsync(bystander)) with { Version = 2 };
        reading!.OnceWhileReading = async row =>
        {
            game.Progress.Stage(row with { Version = 7, X = 777 }); // committed after the row was read
            await game.Progress.FlushAsync();
            game.Progress.Stage(other); // a second batch, without this player
            await game.Progress.FlushAsync();
        };

        var connection = new CountingConnection(1, account);
        await game.Hub.OnConnectedAsync(connection).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal((7L, 777.0), (game.Hub.LivePlayer(account)!.Value.Player.Version, game.Hub.LivePlayer(account)!.Value.Player.X));
        Assert.Equal(2, reading.Reads);
    }

    /// <summary>A store that runs <see cref="OnceWhileReading"/> (once) after it read a player's row and before it answers with it.</summary>
    private sealed class ReadingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private int _reads;
        private Func<PlayerRecord, Task>? _onceWhileReading;

        public Func<PlayerRecord, Task>? OnceWhileReading { set => Volatile.Write(ref _onceWhileReading, value); }

        public int Reads => Volatile.Read(ref _reads);

        public override async Task<PlayerRecord?> LoadPlayerAsync(Guid accountId, Guid galaxyId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            var row = await base.LoadPlayerAsync(accountId, galaxyId, cancellationToken);
            if (row is not null && Interlocked.Exchange(ref _onceWhileReading, null) is { } meanwhile)
            {
                await meanwhile(row);
            }
            return row;
        }
    }

    /// <summary>
    /// A store whose player loads wait, once <see cref="Hold"/> is called, until <see cref="Release"/> (ignoring their
    /// token, as a stuck driver might), or fail as unreachable.
    /// </summary>
    private sealed class LoadingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _holding;

        public bool Unreachable { get; init; }

        public void Hold() => _holding = true;

        public void Release() => _released.TrySetResult();

        public override async Task<PlayerRecord?> LoadPlayerAsync(Guid accountId, Guid galaxyId, CancellationToken cancellationToken = default)
        {
            if (Unreachable)
            {
                throw new StoreUnavailableException("cannot reach the database (test)");
            }
            if (_holding)
            {
                await _released.Task;
            }
            return await base.LoadPlayerAsync(accountId, galaxyId, cancellationToken);
        }
    }

    /// <summary>A player whose connection closed: its session detached, waiting for a resume within the grace.</summary>
    private async Task<(HubHarness Game, Guid Account, (PlayerRecord Player, string ClientId, Sol.Server.Game.SessionPhase Phase) Live)> DetachedAsync()
    {
        var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        var first = new CountingConnection(1);
        await game.JoinAsync(first, ZoneId.ForSystem(1), 3000, 0, hull: 100);
        game.Step();
        var account = first.Identity.AccountId;
        await game.Hub.OnClosedAsync(first);
        game.Step();
        var live = game.Hub.LivePlayer(account)!.Value;
        Assert.Equal(Sol.Server.Game.SessionPhase.Detached, live.Phase);
        return (game, account, live);
    }

    [Fact]
    public async Task AtTheStopAColonizeOutcomeThatFailsToApplyDoesNotKeepTheOthersFromBeingApplied()
    {
        // helper-52: the stop's last pass ran the outcome loop once; an outcome that threw left those behind it unapplied,
        // so those players' records were saved without the price their transaction had taken in the database.
        GatedColonizeStore? gated = null;
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), hubStore: s => gated = new GatedColonizeStore(s));
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var settlers = new[] { new CountingConnection(1), new CountingConnection(2), new CountingConnection(3) };
        foreach (var settler in settlers)
        {
            await game.JoinAsync(settler, planet, 40 * settler.Id, 0, hull: 100);
        }
        game.Step();
        foreach (var settler in settlers)
        {
            game.Hub.OnMessage(settler, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        }
        game.Step();
        await Eventually.TrueAsync(() => gated!.EnteredCount == settlers.Length, TimeSpan.FromSeconds(10), "every transaction held");

        // Every outcome throws while it is applied (its player's connection fails at the PlayerState that follows the
        // price), in whatever order they come back.
        foreach (var settler in settlers)
        {
            settler.FailSends = true;
        }
        gated!.Release();
        await Eventually.TrueAsync(() => gated.FinishedCount == settlers.Length, TimeSpan.FromSeconds(10), "every transaction committed");
        await game.Hub.ApplyPendingAfterStopAsync(TimeSpan.FromSeconds(5));
        await game.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        foreach (var settler in settlers)
        {
            Assert.Equal(1000 - game.Rules.ColonizeCost, game.Hub.LivePlayer(settler.Identity.AccountId)!.Value.Player.Credits);
            Assert.Equal(1000 - game.Rules.ColonizeCost, (await game.SavedAsync(settler.Identity.AccountId)).Credits);
        }
    }

    /// <summary>A player store whose writes wait, once <see cref="Hold"/> is called, until <see cref="Release"/>.</summary>
    private sealed class HeldStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _holding;
        private int _waiting;

        public int Waiting => Volatile.Read(ref _waiting);

        public void Hold() => _holding = true;

        public void Release() => _released.TrySetResult();

        public override async Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default)
        {
            if (_holding)
            {
                Interlocked.Increment(ref _waiting);
                await _released.Task.WaitAsync(cancellationToken);
            }
            await base.SavePlayersAsync(players, cancellationToken);
        }
    }

    /// <summary>
    /// A new connection of the account (<paramref name="replacing"/>) waits while the colonize is held; once it is let
    /// go, the connection completes and the live player has paid its price.
    /// </summary>
    private static async Task WaitsForTheColonizeAsync(HubHarness game, GatedColonizeStore gated, Task replacing, Guid account, ZoneId planet, long creditsAfter)
    {
        for (var i = 0; i < 20; i++)
        {
            game.Step();
            await Task.Yield();
        }
        Assert.False(replacing.IsCompleted, "the new session must wait for the colonize's outcome");
        gated.Release();
        for (var i = 0; i < 400 && !replacing.IsCompleted; i++)
        {
            game.Step();
            await Task.Delay(5);
        }
        await replacing.WaitAsync(TimeSpan.FromSeconds(10));
        game.Step();
        Assert.Single(await game.ColoniesAsync(), c => c.PlanetId == planet.Id);
        Assert.Equal(creditsAfter, game.Hub.LivePlayer(account)!.Value.Player.Credits);
    }

    [Fact]
    public async Task AnArrivalStuckBehindOthersOfItsAccountIsToldToTryAgainLater()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        game.Hub.ArrivalWait = TimeSpan.FromMilliseconds(200);
        var account = Guid.NewGuid();
        var first = new CountingConnection(1, account);
        await game.JoinAsync(first, ZoneId.ForSystem(1), 5_000, 5_000, hull: 100);
        game.Step();

        // The second replaces the first and waits for it to leave, which it does only once its connection ends
        // (this test's connections end when the test says so): the third waits behind the second, and gives up.
        var second = new CountingConnection(2, account);
        var replacing = game.Hub.OnConnectedAsync(second);
        Assert.Equal(Sol.Server.Game.GameHub.Replaced, first.ClosedWith);
        var third = new CountingConnection(3, account);
        await game.Hub.OnConnectedAsync(third).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Sol.Server.Game.GameHub.TryAgainLater, third.ClosedWith);
        Assert.False(replacing.IsCompleted);

        // The first connection ends: it leaves, and the second joins.
        await game.Hub.OnClosedAsync(first);
        for (var i = 0; i < 200 && !replacing.IsCompleted; i++)
        {
            game.Step();
            await Task.Yield();
        }
        await replacing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(second.ClosedWith);
        Assert.Equal(1, game.Hub.Sessions);
    }

    /// <summary>
    /// A hub whose colonize transactions wait at a gate, and a player on a planet who asked to colonize it: the request
    /// was applied (its record staged) and the transaction is in flight, held by the store.
    /// </summary>
    private async Task<(HubHarness Game, GatedColonizeStore Store, CountingConnection Connection, ZoneId Planet)> ColonizeInFlightAsync(ListLogger? log = null, TimeSpan? resumeGrace = null)
    {
        GatedColonizeStore? gated = null;
        var game = await HubHarness.StartAsync(_directory.File("sol.db"), resumeGrace: resumeGrace, hubStore: s => gated = new GatedColonizeStore(s), log: log);
        var (connection, planet) = await LandAsync(game);
        game.Hub.OnMessage(connection, new ReadOnlySequence<byte>(new ClientMessageWriter().Colonize()));
        game.Step();
        await gated!.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        return (game, gated, connection, planet);
    }

    /// <summary>A hub whose write-behind saves through a <see cref="RefusingStore"/> (sessions leave 0.2 s after their connection drops).</summary>
    private async Task<(HubHarness Game, RefusingStore Refusing)> StartWithRefusingProgressAsync(ListLogger log)
    {
        RefusingStore? refusing = null;
        var game = await HubHarness.StartAsync(
            _directory.File("sol.db"), resumeGrace: TimeSpan.FromSeconds(0.2), log: log, progressStore: s => refusing = new RefusingStore(s));
        return (game, refusing!);
    }

    /// <summary>A player (1,000 credits) whose ship is on system 1's first planet, playing.</summary>
    private static async Task<(CountingConnection Connection, ZoneId Planet)> LandAsync(HubHarness game)
    {
        var planet = ZoneId.ForPlanet(game.Galaxy.PlanetsOf(1)[0].Id);
        var connection = new CountingConnection(1);
        await game.JoinAsync(connection, planet, 0, 0, hull: 100);
        game.Step();
        return (connection, planet);
    }

    /// <summary>
    /// Refuses every batch that holds a state of <see cref="Refuse"/> from version <see cref="FromVersion"/> on, as SQLite
    /// refuses a row against a constraint (the states before, the database took).
    /// </summary>
    private sealed class RefusingStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        public Guid Refuse { get; set; }

        public long FromVersion { get; set; }

        public override Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default) =>
            players.Any(p => p.Id == Refuse && p.Version >= FromVersion)
                ? throw new Microsoft.Data.Sqlite.SqliteException("UNIQUE constraint failed: players.account_id, players.galaxy_id (test)", 19)
                : base.SavePlayersAsync(players, cancellationToken);

        public override Task ProbePlayerWriteAsync(PlayerRecord player, CancellationToken cancellationToken = default) =>
            player.Id == Refuse && player.Version >= FromVersion
                ? throw new Microsoft.Data.Sqlite.SqliteException("UNIQUE constraint failed: players.account_id, players.galaxy_id (test)", 19)
                : base.ProbePlayerWriteAsync(player, cancellationToken);
    }

    /// <summary>
    /// Holds each colonize transaction until <see cref="Release"/> (<see cref="Entered"/>: one was asked for), then runs
    /// it, or throws <see cref="Throw"/> instead; <see cref="Finished"/>: it ended either way.
    /// </summary>
    private sealed class GatedColonizeStore(IPlayerStore inner) : DelegatingStore(inner)
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? Throw { get; set; }

        private int _enteredCount;
        private int _finishedCount;

        public Task Entered => _entered.Task;

        public Task Finished => _finished.Task;

        public int EnteredCount => Volatile.Read(ref _enteredCount);

        public int FinishedCount => Volatile.Read(ref _finishedCount);

        public void Release() => _gate.TrySetResult();

        public override async Task<ColonizeOutcome> ColonizeAsync(Guid playerId, int planetId, double x, double y, long cost, DateTimeOffset now, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _enteredCount);
            _entered.TrySetResult();
            try
            {
                await _gate.Task;
                return Throw is { } e ? throw e : await base.ColonizeAsync(playerId, planetId, x, y, cost, now, cancellationToken);
            }
            finally
            {
                Interlocked.Increment(ref _finishedCount);
                _finished.TrySetResult();
            }
        }
    }

    /// <summary>
    /// A player whose home is system 1 joins with its saved ship inside system 2's star; the join is queued (the next
    /// step places the ship).
    /// </summary>
    private static async Task<(CountingConnection Connection, Guid Account)> JoinInAStarAwayFromHomeAsync(HubHarness game, double hull)
    {
        var connection = new CountingConnection(1);
        var star = game.Galaxy.StarsOf(2)[0];
        await game.JoinAsync(connection, ZoneId.ForSystem(2), star.X + (star.DamageRadius * 0.5), star.Y, hull);
        return (connection, connection.Identity.AccountId);
    }

    private static int ShipsInZones(HubHarness game)
    {
        var ships = 0;
        foreach (var zone in game.World.Zones)
        {
            ships += zone.PlayerShipCount;
        }
        return ships;
    }
}
