using Sol.Core.Galaxy;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>The database stops in the middle of play and comes back: the game goes on and nothing is lost.</summary>
public sealed class DatabaseOutageTests
{
    [SkippableFact]
    public async Task PlayGoesOnWhilePostgresIsDownAndEverythingIsWrittenWhenItIsBack()
    {
        Skip.If(!PostgresDatabase.Required && PostgresDatabase.ServerConnectionString is null, "no PostgreSQL installed");
        using var cluster = PostgresCluster.TryCreate();
        Assert.NotNull(cluster);
        await using var server = await TestServer.StartAsync(cluster.ConnectionString, o => o with { StartingSystems = 1, SnapshotInterval = TimeSpan.FromMilliseconds(200) });
        var guest = await server.GuestAsync("outage");
        await using var client = await GameClient.ConnectAsync(server, guest.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());

        cluster.Stop();
        var failuresBefore = server.Server.Progress.Failures;
        // Fly during the outage: snapshots keep coming and acks follow the inputs.
        for (var i = 0; i < 40; i++)
        {
            await client.SendInputAsync(1, 0.25f);
        }
        var last = client.LastSeq;
        await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, s => s == last);
        await Eventually.TrueAsync(() => server.Server.Progress.Failures > failuresBefore + 2, TimeSpan.FromSeconds(20), "writes to fail while the database is down");
        Assert.True(server.Server.Progress.InOutage);
        await client.SendInputAsync(0, 0);
        var stop = client.LastSeq;
        await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, s => s == stop);
        var snapshotsDuringOutage = client.Of(ServerPayload.Snapshot, m => m).Count();
        await Eventually.TrueAsync(() => client.Of(ServerPayload.Snapshot, m => m).Count() > snapshotsDuringOutage + 10, TimeSpan.FromSeconds(10), "snapshots during the outage");

        cluster.Start();
        await Eventually.TrueAsync(() => !server.Server.Progress.InOutage, TimeSpan.FromSeconds(30), "the write-behind to recover");
        await server.Server.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var ship = client.Latest(enter.Entity);
        var account = (await server.Tokens().ValidateAsync(guest.Token)).AccountId;
        var saved = await server.Server.Store.LoadPlayerAsync(account, server.Server.GalaxyId);
        Assert.True(Math.Abs(saved!.X - ship.X) < 50 && Math.Abs(saved.Y - ship.Y) < 50, $"saved ({saved.X:F0},{saved.Y:F0}) vs ship ({ship.X:F0},{ship.Y:F0})");
        Assert.Equal(ZoneId.ForSystem((int)enter.ZoneId), saved.Zone);
    }
}
