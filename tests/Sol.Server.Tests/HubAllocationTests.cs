using Sol.Core.Galaxy;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>
/// The per-tick path of the game layer — encode each zone's snapshot once, share it, write every subscriber's ack, and
/// the coordinator's between-ticks pass — allocates nothing in steady state; and only a tick that destroys a player's
/// ship is sent as kept (not replaceable).
/// </summary>
public sealed class HubAllocationTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(96)] // few ships per zone: one shared snapshot per zone
    [InlineData(2)]  // crowded zones: a snapshot of the nearest ships encoded per client
    public async Task ATickOfSnapshotsAndAcksToTwentyClientsAllocatesNothing(int viewShips)
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"), viewShips);
        var connections = Enumerable.Range(0, 20).Select(i => new CountingConnection(i)).ToList();
        foreach (var c in connections)
        {
            await game.Hub.OnConnectedAsync(c);
        }
        game.Hub.OnTickCompleted(0); // queues the spawns
        game.Scheduler.StepOnce();   // applies them
        game.Pass();                 // subscribes every session to its zone
        Assert.All(connections, c => Assert.True(c.Reliable >= 3)); // Welcome, PlayerState, ZoneEnter

        var bytes = AllocationBudget.SteadyStateBytes(_ => game.Step(), iterations: 500);
        Assert.Equal(0, bytes);
        Assert.All(connections, c => Assert.True(c.Ticks >= 500));
    }

    [Fact]
    public async Task TheTickThatDestroysAPlayersShipIsKeptAndNoOtherIs()
    {
        await using var game = await HubHarness.StartAsync(_directory.File("sol.db"));
        // A player whose saved ship sits inside a star's damage radius (the server loads it on join).
        var connection = new CountingConnection(1);
        var star = game.Galaxy.StarsOf(1)[0];
        await game.SavePlayerAsync(connection.Identity.AccountId, ZoneId.ForSystem(1), star.X + (star.DamageRadius * 0.5), star.Y, hull: 100);
        await game.Hub.OnConnectedAsync(connection);
        game.Hub.OnTickCompleted(0);
        game.Scheduler.StepOnce();
        game.Pass();

        Assert.True(game.StepUntil(() => connection.Kept > 0));
        Assert.Equal(1, connection.Kept);
        Assert.True(connection.Ticks > 10, $"{connection.Ticks} ticks: the ship burned for a while in replaceable ticks first");
    }
}
