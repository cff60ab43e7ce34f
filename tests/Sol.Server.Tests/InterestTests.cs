using Sol.Protocol;

namespace Sol.Server.Tests;

/// <summary>Interest management: in a zone with more ships than <c>--view-ships</c>, a client is sent its own ship and
/// only the nearest other ships.</summary>
public sealed class InterestTests
{
    [Fact]
    public async Task ACrowdedZoneSendsEachClientItsShipAndOnlyTheNearestShips()
    {
        // One starting system with its 3 patrolling NPCs and 3 players: 6 moving ships, more than the limit of 2.
        await using var server = await TestServer.StartAsync(configure: o => o with { StartingSystems = 1, ViewShips = 2 });
        var clients = new List<GameClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                clients.Add(await GameClient.ConnectAsync(server, (await server.GuestAsync($"crowd-{i}")).Token));
            }
            var enters = new List<ZoneEnter>();
            foreach (var c in clients)
            {
                enters.Add(await c.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter()));
            }
            Assert.All(enters, e => Assert.Equal(enters[0].ZoneId, e.ZoneId));

            for (var i = 0; i < clients.Count; i++)
            {
                var own = enters[i].Entity;
                // A snapshot taken once every player has arrived: the zone then holds 6 moving ships.
                var snapshot = await clients[i].WaitForAsync(ServerPayload.Snapshot, m => m.PayloadAsSnapshot(), s => s.Time > enters.Max(e => e.Time) + 0.15);
                var entities = Enumerable.Range(0, snapshot.EntitiesLength).Select(n => snapshot.Entities(n)!.Value).ToList();
                var moving = entities.Where(e => e.Kind is Sol.Protocol.EntityKind.Ship or Sol.Protocol.EntityKind.Npc).ToList();
                Assert.Contains(moving, e => e.Id == own);
                Assert.Equal(3, moving.Count); // its own ship and the 2 nearest others
                Assert.Equal(moving.Count, entities.Count); // no fixed bodies: those are in the ZoneEnter

                // The others it is sent are the nearest: a player left out is no nearer than the farthest ship sent,
                // both measured at this snapshot's tick (the left-out player's position from its own snapshot of it).
                var me = moving.Single(e => e.Id == own);
                var farthestSent = moving.Where(e => e.Id != own).Select(e => Distance(e, me)).Max();
                foreach (var j in Enumerable.Range(0, clients.Count).Where(j => j != i && !moving.Any(e => e.Id == enters[j].Entity)))
                {
                    var theirs = await clients[j].WaitForAsync(ServerPayload.Snapshot, m => m.PayloadAsSnapshot(), s => s.Tick == snapshot.Tick);
                    var them = Enumerable.Range(0, theirs.EntitiesLength).Select(n => theirs.Entities(n)!.Value).Single(e => e.Id == enters[j].Entity);
                    Assert.True(Distance(them, me) >= farthestSent - 0.01, $"player {j} at {Distance(them, me):F1} was left out, but a ship at {farthestSent:F1} was sent");
                }
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task WithTheLimitOffEveryClientSeesEveryShip()
    {
        await using var server = await TestServer.StartAsync(configure: o => o with { StartingSystems = 1, ViewShips = 0 });
        await using var a = await GameClient.ConnectAsync(server, (await server.GuestAsync("all-a")).Token);
        await using var b = await GameClient.ConnectAsync(server, (await server.GuestAsync("all-b")).Token);
        var enterA = await a.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var enterB = await b.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var snapshot = await a.WaitForAsync(ServerPayload.Snapshot, m => m.PayloadAsSnapshot(), s => s.Time > Math.Max(enterA.Time, enterB.Time) + 0.15);
        var moving = Enumerable.Range(0, snapshot.EntitiesLength).Select(n => snapshot.Entities(n)!.Value)
            .Count(e => e.Kind is Sol.Protocol.EntityKind.Ship or Sol.Protocol.EntityKind.Npc);
        Assert.Equal(5, moving); // 2 players and the system's 3 NPCs
    }

    private static double Distance(EntityState a, EntityState b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));
}
