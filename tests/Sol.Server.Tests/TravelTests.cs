using Sol.Core.Galaxy;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>A server per test with one starting system, and helpers that put players where a test needs them.</summary>
public abstract class TravelFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private TestServer _server = null!;

    protected abstract Task<string?> DatabaseAsync(TempDirectory directory);

    protected virtual TimeSpan ResumeGrace => TimeSpan.FromSeconds(30);

    protected virtual TimeSpan TokenGrace => TimeSpan.FromSeconds(30);

    public async Task InitializeAsync()
    {
        var database = await DatabaseAsync(_directory);
        Skip.If(database is null, "no PostgreSQL cluster configured");
        _server = await TestServer.StartAsync(database, o => o with { StartingSystems = 1, ResumeGrace = ResumeGrace, TokenGrace = TokenGrace, SnapshotInterval = TimeSpan.FromMilliseconds(200) });
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await Server.DisposeAsync();
        }
        _directory.Dispose();
    }

    protected GalaxyModel Galaxy => Server.Server.Galaxy;

    protected TestServer Server => _server;

    protected async Task<(TokenReply Guest, int Home)> PlayerAsync(string device)
    {
        var guest = await Server.GuestAsync(device + Guid.NewGuid().ToString("N")[..6]);
        var player = await Server.Server.Store.LoadPlayerAsync(AccountOf(guest), Server.Server.GalaxyId);
        return (guest, player!.HomeSystemId);
    }

    protected Guid AccountOf(TokenReply guest)
    {
        var tokens = Server.Tokens();
        return tokens.ValidateAsync(guest.Token).GetAwaiter().GetResult().AccountId;
    }

    /// <summary>
    /// Saves the ship where the test needs it, all but at rest: a saved velocity is kept on joining, and the zone's
    /// placement velocity (tested in Sol.Zones.Tests) would carry it away from the gate, planet or star it is put at.
    /// </summary>
    protected async Task PlaceAsync(TokenReply guest, ZoneId zone, double x, double y, double? hull = null)
    {
        var player = await Server.Server.Store.LoadPlayerAsync(AccountOf(guest), Server.Server.GalaxyId);
        var (vx, vy) = (0.001, 0.0);
        await Server.Server.Store.SavePlayersAsync([player! with { Zone = zone, X = x, Y = y, Vx = vx, Vy = vy, Hull = hull ?? player.Hull, Version = player.Version + 1 }]);
    }

    protected async Task PlaceNearPlanetAsync(TokenReply guest, int system, Planet planet)
    {
        // Where the planet will be a few ticks from now (the ship spawns within a tick or two of connecting).
        var time = (Server.Server.World.Tick + 4) / (double)Server.Server.Options.TickRate;
        var (x, y) = planet.PositionAt(time);
        await PlaceAsync(guest, ZoneId.ForSystem(system), x, y);
    }
}

/// <summary>
/// Travel and progress end to end: jump, land, colonize, take off, star damage, rejections and resume. Ships are put
/// where the test needs them by editing the player's saved record before connecting (the server loads it on join).
/// </summary>
public abstract class TravelTests : TravelFixture
{
    [SkippableFact]
    public async Task JumpingThroughAGateEntersTheTargetSystemAndNoOldSnapshotFollows()
    {
        var (guest, home) = await PlayerAsync("jumper");
        var gate = Galaxy.GatesOf(home)[0];
        await PlaceAsync(guest, ZoneId.ForSystem(home), gate.X + 20, gate.Y);

        await using var client = await GameClient.ConnectAsync(Server, guest.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        Assert.Equal((uint)home, enter.ZoneId);
        await client.SendAsync(client.Writer.Jump((uint)gate.Id));

        var arrived = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter(), z => z.ZoneId == (uint)gate.TargetSystemId);
        Assert.Equal(Sol.Protocol.ZoneKind.System, arrived.ZoneKind);
        var state = await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState(), s => s.ExploredLength == 2);
        Assert.Contains((uint)gate.TargetSystemId, Enumerable.Range(0, state.ExploredLength).Select(i => state.Explored(i)));
        // Some snapshots of the new system, then: nothing of the old system after its ZoneEnter.
        await Eventually.TrueAsync(() => SnapshotsAfterLastEnter(client).Count >= 5, TimeSpan.FromSeconds(10), "snapshots of the new system");
        Assert.All(SnapshotsAfterLastEnter(client), s => Assert.Equal((uint)gate.TargetSystemId, s.ZoneId));
        // The saved player is in the new system once the write-behind flushed (a transfer flushes at once).
        await Server.Server.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var saved = await Server.Server.Store.LoadPlayerAsync(AccountOf(guest), Server.Server.GalaxyId);
        Assert.Equal(ZoneId.ForSystem(gate.TargetSystemId), saved!.Zone);
    }

    [SkippableFact]
    public async Task LandColonizeAndTakeOff()
    {
        var (guest, home) = await PlayerAsync("settler");
        var planet = Galaxy.PlanetsOf(home)[0];
        await PlaceNearPlanetAsync(guest, home, planet);

        // A second player in the system, in space: it is told of the colony when it is founded.
        var (second, _) = await PlayerAsync("watcher");
        await PlaceNearPlanetAsync(second, home, planet);
        await using var watcher = await GameClient.ConnectAsync(Server, second.Token);
        await watcher.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());

        await using var client = await GameClient.ConnectAsync(Server, guest.Token);
        await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await client.SendAsync(client.Writer.Land((uint)planet.Id));
        var surface = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter(), z => z.ZoneKind == Sol.Protocol.ZoneKind.Planet);
        Assert.Equal((uint)planet.Id, surface.ZoneId);
        Assert.Equal(planet.Name, surface.Planet!.Value.Name);

        // Off the landing point, so that where the colony stands says where the ship was when it was asked for.
        var landedAt = await client.WaitForEntityAsync(surface.Entity);
        await client.SendInputAsync(1, 0);
        await Eventually.TrueAsync(() => Apart(client.Latest(surface.Entity), landedAt) > 30, TimeSpan.FromSeconds(10), "the ship flown off the landing point");
        await client.SendInputAsync(0, 0);
        await client.SendAsync(client.Writer.Colonize());
        var paid = await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState(), s => s.Credits == 500);
        Assert.Equal((uint)planet.Id, paid.Colonies(0));
        var colonies = await Server.Server.Store.ListColoniesAsync(Server.Server.GalaxyId);
        var stored = Assert.Single(colonies, c => c.PlanetId == planet.Id);
        await Eventually.TrueAsync(() => client.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot()).Any(s => s.ZoneId == planet.Id && HasColonizedEvent(s, (uint)planet.Id, surface.Entity)), TimeSpan.FromSeconds(10), "the Colonized event naming the planet and the founder's ship");
        // The founder (on the planet) and the watcher (in its system) are each sent the colony as a ColonyInfo: snapshots
        // carry only ships.
        foreach (var told in new[] { client, watcher }.Select(c => c.WaitForAsync(ServerPayload.ColonyInfo, m => m.PayloadAsColonyInfo())))
        {
            var colony = await told;
            Assert.Equal((uint)planet.Id, colony.PlanetId);
            Assert.Equal(guest.PlayerId.ToString("D"), colony.Owner);
            Assert.Equal(((float)stored.X, (float)stored.Y), (colony.X, colony.Y));
        }
        Assert.DoesNotContain(client.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot()), s => HasKind(s, EntityKind.Colony));
        // Where the ship was: a tick's flight (or two, a snapshot may be skipped) from a position the founder was sent.
        var track = client.Track(surface.Entity).Select(t => t.State).ToList();
        var speed = track.Max(t => Math.Sqrt((t.Vx * t.Vx) + (t.Vy * t.Vy)));
        var off = track.Min(t => Math.Sqrt(Math.Pow(t.X - stored.X, 2) + Math.Pow(t.Y - stored.Y, 2)));
        Assert.True(Math.Sqrt(Math.Pow(stored.X - landedAt.X, 2) + Math.Pow(stored.Y - landedAt.Y, 2)) > 30 && off <= (speed * 0.15) + 0.01,
            $"the colony at {stored.X:F1}, {stored.Y:F1}: {off:F1} from the ship's track (speed up to {speed:F0} u/s)");

        // Again on the same planet: refused, nothing taken.
        await client.SendAsync(client.Writer.Colonize());
        Assert.Equal(ErrorCode.AlreadyColonized, (await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError())).Code);

        // A third player landing there sees the colony, where it stands, in the planet's description.
        var (other, _) = await PlayerAsync("visitor");
        await PlaceNearPlanetAsync(other, home, planet);
        await using var visitor = await GameClient.ConnectAsync(Server, other.Token);
        await visitor.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await visitor.SendAsync(visitor.Writer.Land((uint)planet.Id));
        var seen = await visitor.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter(), z => z.ZoneKind == Sol.Protocol.ZoneKind.Planet);
        Assert.Equal(1, seen.ColoniesLength);
        Assert.Equal(guest.PlayerId.ToString("D"), seen.Colonies(0)!.Value.Owner);
        Assert.Equal(((float)stored.X, (float)stored.Y), (seen.Colonies(0)!.Value.X, seen.Colonies(0)!.Value.Y));

        await client.SendAsync(client.Writer.TakeOff());
        await Eventually.TrueAsync(() => client.Of(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter()).Count(z => z.ZoneKind == Sol.Protocol.ZoneKind.System) == 2, TimeSpan.FromSeconds(10), "the ZoneEnter after take-off");
        var orbit = client.Of(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter()).Last();
        Assert.Equal((uint)home, orbit.ZoneId);
        // The system's description lists the colony of its planet.
        Assert.Equal(1, orbit.ColoniesLength);
    }

    private static double Apart(EntityState a, EntityState b) => Math.Sqrt(Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2));

    private static bool HasColonizedEvent(Snapshot snapshot, uint planetId, uint entity)
    {
        for (var i = 0; i < snapshot.EventsLength; i++)
        {
            if (snapshot.Events(i) is { Kind: EventKind.Colonized } e && e.Other == planetId && e.Entity == entity)
            {
                return true;
            }
        }
        return false;
    }

    [SkippableFact]
    public async Task RequestsThatAreNotAllowedGetAnErrorAndTheConnectionStays()
    {
        var (guest, home) = await PlayerAsync("rules");
        await using var client = await GameClient.ConnectAsync(Server, guest.Token);
        await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var far = Galaxy.GatesOf(home)[0];

        await client.SendAsync(client.Writer.Jump((uint)far.Id));
        Assert.Equal(ErrorCode.TooFar, (await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError(), e => e.Code == ErrorCode.TooFar)).Code);
        await client.SendAsync(client.Writer.Jump(999_999));
        await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError(), e => e.Code == ErrorCode.UnknownTarget);
        await client.SendAsync(client.Writer.Colonize());
        await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError(), e => e.Code == ErrorCode.NotLanded);
        await client.SendAsync(client.Writer.TakeOff());
        await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError(), e => e.Code == ErrorCode.NotLanded);
        await client.SendAsync(client.Writer.SetRoute([], 999_999));
        await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError(), e => e.Code == ErrorCode.NoRoute);
        Assert.False(client.Closed);
    }

    [SkippableFact]
    public async Task ARouteToADestinationIsPlannedKeptAndSent()
    {
        var (guest, home) = await PlayerAsync("navigator");
        await using var client = await GameClient.ConnectAsync(Server, guest.Token);
        await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var destination = Galaxy.Systems.Select(s => s.Id).Last(id => id != home);
        await client.SendAsync(client.Writer.SetRoute([], (uint)destination));
        var state = await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState(), s => s.RouteLength > 0);
        var route = Enumerable.Range(0, state.RouteLength).Select(i => (int)state.Route(i)).ToArray();
        Assert.Equal(GalaxyRoutes.ShortestRoute(Galaxy, home, destination), route);
        await Server.Server.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(route, (await Server.Server.Store.LoadPlayerAsync(AccountOf(guest), Server.Server.GalaxyId))!.Route);
    }

    [SkippableFact]
    public async Task AStarBurnsAShipWhichRespawnsAndItsOwnerPaysThePenalty()
    {
        var (guest, home) = await PlayerAsync("moth");
        var star = Galaxy.StarsOf(home)[0];
        // Already damaged: it comes back with 30 of its 100 hull points, and burns from there.
        await PlaceAsync(guest, ZoneId.ForSystem(home), star.X + (star.DamageRadius * 0.5), star.Y, hull: 30);
        await using var client = await GameClient.ConnectAsync(Server, guest.Token);
        Assert.Equal(30, (await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState())).Hull);
        await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        // The ship burns (damage events) and is destroyed (event), then its owner pays 100 credits, and the record the
        // PlayerState comes from is the respawned ship's at once: full hull.
        var state = await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState(), s => s.Credits == 900, seconds: 20);
        Assert.Equal(900, state.Credits);
        Assert.Equal(state.MaxHull, state.Hull);
        // The snapshot says why: a Destroyed event for the ship, carrying the credits lost.
        Assert.Contains(client.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot()), s => Enumerable.Range(0, s.EventsLength).Any(i => s.Events(i)!.Value.Kind == EventKind.Destroyed && s.Events(i)!.Value.Value == 100));
    }

    [SkippableFact]
    public async Task AClientResumingWithinTheGraceGetsItsLivingShipBack()
    {
        var (guest, _) = await PlayerAsync("resumer");
        string clientId;
        uint entity;
        await using (var first = await GameClient.ConnectAsync(Server, guest.Token))
        {
            clientId = (await first.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome())).ClientId;
            entity = (await first.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter())).Entity;
            await first.CloseAsync();
        }
        await Eventually.TrueAsync(() => Server.Server.Hub.Sessions == 0, TimeSpan.FromSeconds(10), "the first connection to end");
        Assert.Equal(1, Server.Server.World.ShipCount);

        await using var again = await GameClient.ConnectAsync(Server, guest.Token, clientId);
        Assert.Equal(clientId, (await again.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome())).ClientId);
        Assert.Equal(entity, (await again.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter())).Entity);
        await again.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck(), a => a.Entity == entity);
        Assert.Equal(1, Server.Server.World.ShipCount);
    }

    [SkippableFact]
    public async Task TwoTabsOpeningAtOnceEndWithOneShipAndTheOtherReplaced()
    {
        var (guest, _) = await PlayerAsync("twin");
        await using var first = await GameClient.ConnectAsync(Server, guest.Token);
        await first.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        // Two more connections of the same account at the same moment: each replaces what came before it, in turn.
        var connecting = new[] { GameClient.ConnectAsync(Server, guest.Token), GameClient.ConnectAsync(Server, guest.Token) };
        await using var b = await connecting[0];
        await using var c = await connecting[1];
        await first.WaitClosedAsync();
        Assert.Equal(Sol.Server.Game.GameHub.Replaced, first.CloseStatus);
        await Eventually.TrueAsync(() => b.Closed != c.Closed && Server.Server.Hub.Sessions == 1 && Server.Server.World.ShipCount == 1,
            TimeSpan.FromSeconds(15), "one of the two to be replaced, leaving one session and one ship");
        var (replaced, kept) = b.Closed ? (b, c) : (c, b);
        Assert.Equal(Sol.Server.Game.GameHub.Replaced, replaced.CloseStatus);
        await kept.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        Assert.False(kept.Closed);
    }

    [SkippableFact]
    public async Task ManyShipsJumpingBackAndForthAreEachInExactlyOneZoneInTheGameAndTheDatabase()
    {
        const int Pilots = 24;
        const int Jumps = 12;
        var pilots = new List<(TokenReply Guest, GameClient Client, uint Gate)>();
        for (var i = 0; i < Pilots; i++)
        {
            var (guest, home) = await PlayerAsync($"shuttle{i}");
            var gate = Galaxy.GatesOf(home)[i % Galaxy.GatesOf(home).Length];
            await PlaceAsync(guest, ZoneId.ForSystem(home), gate.X, gate.Y);
            pilots.Add((guest, await GameClient.ConnectAsync(Server, guest.Token), (uint)gate.Id));
        }
        try
        {
            await Task.WhenAll(pilots.Select(p => ShuttleAsync(p.Client, p.Gate, Jumps)));
            // Every ship is in exactly one zone: the one its client was last told about.
            var last = pilots.Select(p => p.Client.Of(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter()).Last()).ToList();
            await Eventually.TrueAsync(() => ShipsInZones() == Pilots, TimeSpan.FromSeconds(10), "every ship in one zone");
            Assert.Equal(Pilots, Server.Server.World.ShipCount);
            foreach (var group in last.GroupBy(z => z.ZoneId))
            {
                Assert.Equal(group.Count(), Server.Server.World.GetZone(ZoneId.ForSystem((int)group.Key)).PlayerShipCount);
            }
            await Server.Server.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
            for (var i = 0; i < Pilots; i++)
            {
                var saved = await Server.Server.Store.LoadPlayerAsync(AccountOf(pilots[i].Guest), Server.Server.GalaxyId);
                Assert.Equal(ZoneId.ForSystem((int)last[i].ZoneId), saved!.Zone);
            }
        }
        finally
        {
            foreach (var (_, client, _) in pilots)
            {
                await client.DisposeAsync();
            }
        }
    }

    private int ShipsInZones()
    {
        var total = 0;
        foreach (var zone in Server.Server.World.Zones)
        {
            total += zone.PlayerShipCount;
        }
        return total;
    }

    /// <summary>Jumps through the gate the ship sits on, then back through the partner gate, <paramref name="jumps"/> times.</summary>
    private static async Task ShuttleAsync(GameClient client, uint firstGate, int jumps)
    {
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var entered = 1;
        uint previous = 0;
        for (var j = 0; j < jumps; j++)
        {
            // The ship stands on the gate it was placed on, then on the gate it arrived through.
            var gate = previous == 0 ? firstGate : GateTo(enter, previous);
            previous = enter.ZoneId;
            await client.SendAsync(client.Writer.Jump(gate));
            entered++;
            var want = entered;
            await Eventually.TrueAsync(() => client.Of(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter()).Count() >= want, TimeSpan.FromSeconds(15), "the jump's ZoneEnter");
            enter = client.Of(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter()).Last();
        }
    }

    private static uint GateTo(ZoneEnter zone, uint system) =>
        Enumerable.Range(0, zone.GatesLength).Select(i => zone.Gates(i)!.Value).First(g => g.TargetSystemId == system).Id;

    private static List<Snapshot> SnapshotsAfterLastEnter(GameClient client)
    {
        var messages = client.Messages;
        var last = messages.FindLastIndex(m => m.PayloadType == ServerPayload.ZoneEnter);
        return [.. messages.Skip(last + 1).Where(m => m.PayloadType == ServerPayload.Snapshot).Select(m => m.PayloadAsSnapshot())];
    }

    private static bool HasKind(Snapshot s, EntityKind kind) => Enumerable.Range(0, s.EntitiesLength).Any(i => s.Entities(i)!.Value.Kind == kind);
}

public sealed class SqliteTravelTests : TravelTests
{
    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));
}

public sealed class PostgresTravelTests : TravelTests
{
    protected override Task<string?> DatabaseAsync(TempDirectory directory) => PostgresDatabase.CreateAsync("travel");
}

/// <summary>After the grace period the detached ship is saved and removed; a late resume starts from the saved state.</summary>
public sealed class ResumeGraceExpiryTests : TravelFixture
{
    protected override TimeSpan ResumeGrace => TimeSpan.FromMilliseconds(500);

    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));

    [Fact]
    public async Task AfterTheGraceTheShipIsSavedAndRemoved()
    {
        var (guest, _) = await PlayerAsync("late");
        string clientId;
        uint entity;
        await using (var first = await GameClient.ConnectAsync(Server, guest.Token))
        {
            clientId = (await first.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome())).ClientId;
            entity = (await first.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter())).Entity;
        }
        await Eventually.TrueAsync(() => Server.Server.World.ShipCount == 0, TimeSpan.FromSeconds(10), "the ship to be removed after the grace");
        await using var late = await GameClient.ConnectAsync(Server, guest.Token, clientId);
        Assert.NotEqual(clientId, (await late.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome())).ClientId);
        await late.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        Assert.Equal(1, Server.Server.World.ShipCount);
        _ = entity;
    }
}

/// <summary>A token that expires during play: refreshed in-band it goes on; not refreshed, the session is closed (4001).</summary>
public sealed class TokenExpiryTests : TravelFixture
{
    protected override TimeSpan TokenGrace => TimeSpan.FromMilliseconds(500);

    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));

    [Fact]
    public async Task AnExpiredSessionIsClosedWith4001UnlessItReauthenticates()
    {
        var (stale, _) = await PlayerAsync("stale");
        var (fresh, _) = await PlayerAsync("fresh");
        var shortLived = Server.Tokens(TimeSpan.FromSeconds(1));
        await using var forgetful = await GameClient.ConnectAsync(Server, shortLived.Issue(AccountOf(stale), Guid.NewGuid()).Token);
        await using var careful = await GameClient.ConnectAsync(Server, shortLived.Issue(AccountOf(fresh), Guid.NewGuid()).Token);
        await forgetful.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await careful.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await careful.SendAsync(careful.Writer.Reauth(fresh.Token));

        await forgetful.WaitClosedAsync();
        Assert.Equal(4001, (int)forgetful.CloseStatus!.Value);
        // Well past the short token's expiry plus grace, the refreshed session still plays.
        var ticks = careful.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick).Count();
        await Eventually.TrueAsync(() => careful.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick).Count() > ticks + 20, TimeSpan.FromSeconds(10), "more snapshots after the expiry");
        Assert.False(careful.Closed);

        // A token of another account is refused in-band.
        await careful.SendAsync(careful.Writer.Reauth(stale.Token));
        Assert.Equal(ErrorCode.TokenRejected, (await careful.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError())).Code);
    }
}
