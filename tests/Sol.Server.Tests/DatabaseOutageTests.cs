using System.Net.Http.Json;
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
        // Told by /healthz, which stays 200: play goes on.
        Assert.Equal("unreachable", (await server.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/healthz")).GetProperty("database").GetString());
        await client.SendInputAsync(0, 0);
        var stop = client.LastSeq;
        await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, s => s == stop);
        var snapshotsDuringOutage = client.Of(ServerPayload.Snapshot, m => m).Count();
        await Eventually.TrueAsync(() => client.Of(ServerPayload.Snapshot, m => m).Count() > snapshotsDuringOutage + 10, TimeSpan.FromSeconds(10), "snapshots during the outage");

        cluster.Start();
        await Eventually.TrueAsync(() => !server.Server.Progress.InOutage, TimeSpan.FromSeconds(30), "the write-behind to recover");
        Assert.Equal("ok", (await server.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/healthz")).GetProperty("database").GetString());
        await server.Server.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var ship = client.Latest(enter.Entity);
        var account = (await server.Tokens().ValidateAsync(guest.Token)).AccountId;
        var saved = await server.Server.Store.LoadPlayerAsync(account, server.Server.GalaxyId);
        Assert.True(Math.Abs(saved!.X - ship.X) < 50 && Math.Abs(saved.Y - ship.Y) < 50, $"saved ({saved.X:F0},{saved.Y:F0}) vs ship ({ship.X:F0},{ship.Y:F0})");
        Assert.Equal(ZoneId.ForSystem((int)enter.ZoneId), saved.Zone);
    }

    [SkippableFact]
    public async Task HealthSaysTheDatabaseIsUnreachableWhenNobodyPlaysToo()
    {
        // With nothing to write, the write-behind never saw the outage: /healthz said "ok" while logins got 503 (helper-75).
        Skip.If(!PostgresDatabase.Required && PostgresDatabase.ServerConnectionString is null, "no PostgreSQL installed");
        using var cluster = PostgresCluster.TryCreate();
        Assert.NotNull(cluster);
        await using var server = await TestServer.StartAsync(cluster.ConnectionString);
        Assert.Equal("ok", await DatabaseStateAsync(server));

        cluster.Stop();
        await Eventually.TrueAsync(async () => await DatabaseStateAsync(server) == "unreachable", TimeSpan.FromSeconds(30), "/healthz to say the database is unreachable");
        using (var health = await server.Http.GetAsync("/healthz"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode); // play would go on: still 200
        }
        cluster.Start();
        await Eventually.TrueAsync(async () => await DatabaseStateAsync(server) == "ok", TimeSpan.FromSeconds(30), "/healthz to say the database is back");
    }

    private static async Task<string?> DatabaseStateAsync(TestServer server) =>
        (await server.Http.GetFromJsonAsync<System.Text.Json.JsonElement>("/healthz")).GetProperty("database").GetString();

    [SkippableFact]
    public async Task AStopThatCannotSaveEveryPlayerExitsWithCode1()
    {
        Skip.If(!PostgresDatabase.Required && PostgresDatabase.ServerConnectionString is null, "no PostgreSQL installed");
        using var cluster = PostgresCluster.TryCreate();
        Assert.NotNull(cluster);
        using var directory = new TempDirectory();
        var options = new Sol.Server.Hosting.ServerOptions
        {
            Http = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            Game = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            Database = cluster.ConnectionString,
            JwtSecret = TestServer.Secret,
            DefaultGalaxyZones = 12,
            StartingSystems = 1,
            ZoneWorkers = 1,
            PinThreads = false,
            DataDirectory = directory.File("data"),
            LogLevel = Microsoft.Extensions.Logging.LogLevel.None,
        };
        var started = new TaskCompletionSource<Sol.Server.Hosting.SolServer>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var run = Sol.Server.Hosting.ServerHost.RunAsync(options, TextWriter.Null, started.SetResult, stop.Token);
        var server = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        using var guest = await http.PostAsJsonAsync("/api/auth/guest", new { deviceId = "unsaved" });
        var token = (await guest.Content.ReadFromJsonAsync<TokenReply>())!;
        await using var client = await GameClient.ConnectAsync(server.GameEndpoint.Port, token.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await client.WaitForEntityAsync(enter.Entity);

        // The database goes away, then the server is stopped (SIGTERM): the player's last state cannot be written.
        // Before, that was a logged error and exit code 0, which a supervisor takes for a clean stop.
        cluster.Stop();
        stop.Cancel();
        Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(server.Progress.UnsavedAtStop >= 1, $"{server.Progress.UnsavedAtStop} unsaved");
    }
}
