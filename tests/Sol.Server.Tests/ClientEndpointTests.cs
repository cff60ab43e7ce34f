using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>The web client at <c>/</c> (<c>ClientEndpoints</c>) and the live player at <c>/api/me</c>.</summary>
public sealed class ClientEndpointTests : IAsyncLifetime
{
    private const string IndexHtml = "<!doctype html><title>Sol</title><script src=\"/app-0123456789ab.js\"></script>";

    private readonly TempDirectory _client = new();
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_client.File("index.html"), IndexHtml);
        await File.WriteAllTextAsync(_client.File("app-0123456789ab.js"), "console.log('sol');");
        await File.WriteAllTextAsync(_client.File("style.css"), "body { color: red; }");
        _server = await TestServer.StartAsync(configure: o => o with { ClientDirectory = _client.Path, SnapshotInterval = TimeSpan.FromSeconds(0.1) });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _client.Dispose();
    }

    [Fact]
    public async Task TheRootServesIndexHtmlThatBrowsersMustRevalidate()
    {
        using var response = await _server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(IndexHtml, await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.CacheControl?.NoCache);
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/");
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await _server.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task HashedFilesAreImmutableAndOthersAreRevalidated()
    {
        using var script = await _server.Http.GetAsync("/app-0123456789ab.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", script.Headers.CacheControl?.ToString(), StringComparison.Ordinal);

        using var style = await _server.Http.GetAsync("/style.css");
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
        Assert.True(style.Headers.CacheControl?.NoCache);
    }

    [Fact]
    public async Task AMissingFileIs404AndTheApiStillAnswers()
    {
        using var missing = await _server.Http.GetAsync("/no-such-file.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var health = await _server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var config = await _server.Http.GetAsync("/api/config");
        Assert.Equal(HttpStatusCode.OK, config.StatusCode);
    }

    [Fact]
    public async Task WithoutABuiltClientTheRootSaysSo()
    {
        using var empty = new TempDirectory();
        await using var server = await TestServer.StartAsync(configure: o => o with { ClientDirectory = empty.File("dist") });
        using var response = await server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("web client was not built", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiMeAnswersTheLivePlayerOnlyWithAValidToken()
    {
        using var anonymous = await _server.Http.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var guest = await _server.GuestAsync("me-test");
        using var notPlaying = await Me(guest.Token);
        Assert.Equal(HttpStatusCode.NotFound, notPlaying.StatusCode);

        await using var client = await GameClient.ConnectAsync(_server, guest.Token);
        var welcome = await client.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome().ClientId);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var start = await client.WaitForEntityAsync(enter.Entity);

        JsonElement me = default;
        double moved = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        ulong tick = 0;
        while (moved < 20 && DateTime.UtcNow < deadline)
        {
            // One input per tick (the server closes a client over 60 messages a second).
            tick = await client.WaitForAsync(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick, t => t > tick);
            await client.SendInputAsync(1, 0);
            using var response = await Me(guest.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            me = await response.Content.ReadFromJsonAsync<JsonElement>();
            moved = Math.Sqrt(Math.Pow(me.GetProperty("x").GetDouble() - start.X, 2) + Math.Pow(me.GetProperty("y").GetDouble() - start.Y, 2));
        }
        Assert.True(moved >= 20, $"the ship moved {moved:0.#} units in /api/me");
        Assert.Equal(welcome, me.GetProperty("clientId").GetString());
        Assert.Equal(guest.PlayerId, me.GetProperty("playerId").GetGuid());
        Assert.Equal($"system:{enter.SystemId}", me.GetProperty("zone").GetString());
        Assert.Equal("Playing", me.GetProperty("phase").GetString());
    }

    private Task<HttpResponseMessage> Me(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return _server.Http.SendAsync(request);
    }
}
