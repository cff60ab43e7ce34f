using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Server.Hosting;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>
/// One server a galaxy on a shared database (PostgreSQL standing in for CockroachDB): before the lease, a second server
/// on the same database served the same galaxy too, each with its own world of the same players, their saves racing.
/// </summary>
public sealed class GalaxyLeaseTests
{
    private static readonly TimeSpan s_term = TimeSpan.FromSeconds(1.5);

    private static async Task<string> DatabaseAsync()
    {
        var database = await PostgresDatabase.CreateAsync("lease");
        Skip.If(database is null, "no PostgreSQL cluster configured (run scripts/test.sh)");
        return database!;
    }

    private static Task<TestServer> StartAsync(string database, ILoggerFactory? loggers = null) =>
        TestServer.StartAsync(database, o => o with { LeaseTerm = s_term }, loggers);

    [SkippableFact]
    public async Task ASecondServerOnTheSameGalaxyIsRefusedWithOneLine()
    {
        var database = await DatabaseAsync();
        await using var first = await StartAsync(database);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ServerStartException>(() => StartAsync(database));
        Assert.Matches(@"^the galaxy 'main' is served by another server \(.+:\d+:[0-9a-f]{8}, which renewed its lease until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): stop it first, or serve another --galaxy$", e.Message);
        Assert.True(started.Elapsed < s_term * 2, $"refused after {started.Elapsed}"); // it waited for one renewal, not for ever
        // The first serves on.
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetAsync("/healthz")).StatusCode);
        await first.GuestAsync("still-here");
    }

    [SkippableFact]
    public async Task ACleanStopLetsTheNextServerStartAtOnce()
    {
        var database = await DatabaseAsync();
        var first = await StartAsync(database);
        var galaxy = first.Server.GalaxyId;
        await first.DisposeAsync();
        await using (var store = await SolStore.OpenAsync(database))
        {
            // Released, not left to run out (it would have lasted a term past the stop).
            Assert.Equal("probe", (await store.TakeGalaxyLeaseAsync(galaxy, "probe", DateTimeOffset.UtcNow, s_term)).Holder);
            await store.ReleaseGalaxyLeaseAsync(galaxy, "probe");
        }
        var logs = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var next = await StartAsync(database, loggers);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("is leased by", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task TheLeaseOfAServerThatDiedIsTakenOverWhenItRunsOut()
    {
        var database = await DatabaseAsync();
        Guid galaxy;
        await using (var first = await StartAsync(database))
        {
            galaxy = first.Server.GalaxyId;
        }
        // As a server killed with SIGKILL leaves it: taken, never released nor renewed.
        await using var store = await SolStore.OpenAsync(database);
        var dead = await store.TakeGalaxyLeaseAsync(galaxy, "dead-host:4242:0badf00d", DateTimeOffset.UtcNow, s_term);

        var logs = new ListLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var next = await StartAsync(database, loggers);
        Assert.True(DateTimeOffset.UtcNow >= dead.Until, "started before the dead server's lease ran out");
        Assert.Contains(logs.Lines, l => l.StartsWith("The galaxy 'main' is leased by dead-host:4242:0badf00d until ", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.StartsWith("Took over the galaxy 'main' from dead-host:4242:0badf00d", StringComparison.Ordinal));
        var lease = await store.TakeGalaxyLeaseAsync(galaxy, "probe", DateTimeOffset.UtcNow, s_term);
        Assert.StartsWith(Environment.MachineName + ":", lease.Holder, StringComparison.Ordinal);
        await next.GuestAsync("after-takeover");
    }

    [SkippableFact]
    public async Task AServerWhoseGalaxyWasTakenOverStops()
    {
        var database = await DatabaseAsync();
        await using var server = await StartAsync(database);
        await using var store = await SolStore.OpenAsync(database);
        // Another server that saw this one's lease run out (this one could not reach the database for a term, say).
        var usurper = await store.TakeGalaxyLeaseAsync(server.Server.GalaxyId, "other-host:7:12345678", DateTimeOffset.UtcNow + TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        Assert.Equal("other-host:7:12345678", usurper.Holder);

        var failure = await server.Server.GameFailed.WaitAsync(TimeSpan.FromSeconds(20));
        var taken = Assert.IsType<GalaxyTakenOverException>(failure);
        Assert.StartsWith("another server (other-host:7:12345678) took the galaxy 'main' over after this server's lease ran out at ", taken.Message, StringComparison.Ordinal);
        using var health = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(taken.Message, (await health.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("error").GetString());

        await server.Server.StopAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("other-host:7:12345678", (await store.TakeGalaxyLeaseAsync(server.Server.GalaxyId, "probe", DateTimeOffset.UtcNow, s_term)).Holder); // not released: not its own
    }
}

/// <summary>Every logger of a factory as one <see cref="ListLogger"/>: the warnings of a whole server.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly ListLogger _log = new();

    public IReadOnlyList<string> Lines => _log.Warnings;

    public ILogger CreateLogger(string categoryName) => _log;

    public void Dispose()
    {
    }
}
