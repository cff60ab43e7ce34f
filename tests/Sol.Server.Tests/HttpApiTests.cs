using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Sol.Server.Auth;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class HttpApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HttpClient Http => _server.Http;

    [Fact]
    public async Task RegisterThenLoginGiveTokensForTheSamePlayer()
    {
        var registered = await PostAsync<TokenReply>("/api/auth/register", new { username = "Ada", password = "correct horse" }, HttpStatusCode.OK);
        var loggedIn = await PostAsync<TokenReply>("/api/auth/login", new { username = "ada", password = "correct horse" }, HttpStatusCode.OK);
        Assert.Equal(registered.PlayerId, loggedIn.PlayerId);
        Assert.NotEqual(registered.Token, loggedIn.Token);
        Assert.True(loggedIn.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(30));
        var check = await ServerTokens().ValidateAsync(loggedIn.Token);
        Assert.True(check.Valid, check.Error);
    }

    [Fact]
    public async Task ATakenOrMalformedUsernameIsRefused()
    {
        await PostAsync<TokenReply>("/api/auth/register", new { username = "grace", password = "long enough" }, HttpStatusCode.OK);
        await PostAsync<JsonElement>("/api/auth/register", new { username = "GRACE", password = "long enough" }, HttpStatusCode.Conflict);
        await PostAsync<JsonElement>("/api/auth/register", new { username = "x", password = "long enough" }, HttpStatusCode.BadRequest);
        await PostAsync<JsonElement>("/api/auth/register", new { username = "guest-me", password = "long enough" }, HttpStatusCode.BadRequest);
        await PostAsync<JsonElement>("/api/auth/register", new { username = "bob", password = "short" }, HttpStatusCode.BadRequest);
        await PostAsync<JsonElement>("/api/auth/register", new { }, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("        ")]                                   // spaces
    [InlineData("\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b")] // zero-width spaces
    [InlineData("\u00ad\u00ad\u00ad\u00ad\u00ad\u00ad\u00ad\u00ad")] // soft hyphens
    [InlineData("\u2028\u2028\u2028\u2028\u2028\u2028\u2028\u2028")] // line separators
    [InlineData("\ufeffabcdefg")]                              // 7 visible and a byte-order mark
    [InlineData("😀😀😀😀")]                                   // four characters (eight UTF-16 units)
    [InlineData("\ufe0f\ufe0f\ufe0f\ufe0f\ufe0f\ufe0f\ufe0f\ufe0f")] // variation selectors (helper-61)
    [InlineData("\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301")] // combining acute accents
    [InlineData("\u3164\u3164\u3164\u3164\u3164\u3164\u3164\u3164")] // Hangul fillers
    [InlineData("\u2800\u2800\u2800\u2800\u2800\u2800\u2800\u2800")] // braille blanks
    public async Task APasswordOfFewerThanEightVisibleCharactersIsRefused(string password)
    {
        // helper-58: each of these was accepted (the length counted UTF-16 units and invisible characters).
        var error = await PostAsync<JsonElement>("/api/auth/register", new { username = "weak" + Math.Abs(password.GetHashCode() % 1000), password }, HttpStatusCode.BadRequest);
        Assert.Equal("password: 8..128 printable characters, at least 8 of them neither spaces nor invisible", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task APasswordOfEightCharactersOutsideTheBasicPlaneIsAccepted()
    {
        await PostAsync<TokenReply>("/api/auth/register", new { username = "emoji", password = "😀😀😀😀😀😀😀😀" }, HttpStatusCode.OK);
        await PostAsync<TokenReply>("/api/auth/login", new { username = "emoji", password = "😀😀😀😀😀😀😀😀" }, HttpStatusCode.OK);
    }

    [Fact]
    public async Task RepeatedFailedLoginsAreThrottledWith429()
    {
        await PostAsync<TokenReply>("/api/auth/register", new { username = "linus", password = "right password" }, HttpStatusCode.OK);
        for (var i = 0; i < 5; i++)
        {
            var error = await PostAsync<JsonElement>("/api/auth/login", new { username = "linus", password = "wrong" }, HttpStatusCode.Unauthorized);
            Assert.Equal("wrong username or password", error.GetProperty("error").GetString());
        }
        using var response = await Http.PostAsJsonAsync("/api/auth/login", new { username = "linus", password = "right password" });
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // Another account from the same address is not locked by linus's failures (yet).
        await PostAsync<TokenReply>("/api/auth/register", new { username = "other", password = "right password" }, HttpStatusCode.OK);
        await PostAsync<TokenReply>("/api/auth/login", new { username = "other", password = "right password" }, HttpStatusCode.OK);
    }

    [Fact]
    public async Task ManyLoginsAtOnceGetFivePasswordChecks()
    {
        await PostAsync<TokenReply>("/api/auth/register", new { username = "margaret", password = "right password" }, HttpStatusCode.OK);

        // The wiring of the throttle through HTTP. Whether attempts made at the same moment can get past it is
        // LoginThrottleTests' (on two cores and SQLite these requests hardly overlap: this passed on the old code too).
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await Http.PostAsJsonAsync("/api/auth/login", new { username = "margaret", password = "wrong guess" });
            return response.StatusCode;
        }));
        Assert.Equal(LoginThrottle.PerAccount, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.Equal(40 - LoginThrottle.PerAccount, answers.Count(a => a == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task ControlCharactersAreRefusedOrWrongNamesNeverAServerError()
    {
        // PostgreSQL refuses a NUL in text: it must never get there (before: 500 and a stack trace in the log).
        var device = await PostAsync<JsonElement>("/api/auth/guest", new { deviceId = "nul\u0000dev" }, HttpStatusCode.BadRequest);
        Assert.Equal("deviceId is required (1..128 printable characters)", device.GetProperty("error").GetString());
        using (var half = new StringContent("{\"deviceId\":\"half \\ud800 pair\"}", System.Text.Encoding.UTF8, "application/json"))
        {
            using var response = await Http.PostAsync("/api/auth/guest", half); // half of a surrogate pair
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        var login = await PostAsync<JsonElement>("/api/auth/login", new { username = "a\u0000b", password = "whatever1" }, HttpStatusCode.Unauthorized);
        Assert.Equal("wrong username or password", login.GetProperty("error").GetString());
        await PostAsync<JsonElement>("/api/auth/login", new { username = new string('x', 65_000 / 2), password = "whatever1" }, HttpStatusCode.Unauthorized);
        await PostAsync<JsonElement>("/api/auth/register", new { username = "ada2", password = "pass\u0000word" }, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ABodyTheApiCannotReadGetsTheApisErrorBody()
    {
        foreach (var (content, status) in new (HttpContent Content, HttpStatusCode Status)[]
        {
            (new StringContent("{ not json", System.Text.Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest),
            (new StringContent("[1, 2]", System.Text.Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest),
            (new StringContent("deviceId=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"), HttpStatusCode.UnsupportedMediaType),
            (new StringContent("{\"deviceId\":\"" + new string('x', 70_000) + "\"}", System.Text.Encoding.UTF8, "application/json"), HttpStatusCode.RequestEntityTooLarge),
        })
        {
            using var response = await Http.PostAsync("/api/auth/guest", content);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
            content.Dispose();
        }
        using var wrongMethod = await Http.PutAsync("/api/auth/guest", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("method not allowed", (await wrongMethod.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnUnknownUserLooksLikeAWrongPassword()
    {
        var error = await PostAsync<JsonElement>("/api/auth/login", new { username = "nobody", password = "whatever1" }, HttpStatusCode.Unauthorized);
        Assert.Equal("wrong username or password", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AGuestDeviceKeepsItsPlayer()
    {
        var first = await _server.GuestAsync("device-a");
        var again = await _server.GuestAsync("device-a");
        var other = await _server.GuestAsync("device-b");
        Assert.Equal(first.PlayerId, again.PlayerId);
        Assert.NotEqual(first.PlayerId, other.PlayerId);
        await PostAsync<JsonElement>("/api/auth/guest", new { deviceId = "" }, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task RefreshNeedsAValidTokenAndGivesANewOne()
    {
        var guest = await _server.GuestAsync("device-r");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", guest.Token);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var refreshed = (await response.Content.ReadFromJsonAsync<TokenReply>())!;
        Assert.Equal(guest.PlayerId, refreshed.PlayerId);

        // A session is refreshed for 30 days from its login, no longer.
        var account = (await ServerTokens().ValidateAsync(guest.Token)).AccountId;
        using var old = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        old.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerTokens().Issue(account, Guid.NewGuid(), DateTimeOffset.UtcNow.AddDays(-31)).Token);
        using var tooOld = await Http.SendAsync(old);
        Assert.Equal(HttpStatusCode.Unauthorized, tooOld.StatusCode);
        Assert.Equal("session too old; log in again", (await tooOld.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        using var bad = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        bad.Headers.Authorization = new AuthenticationHeaderValue("Bearer", guest.Token[..^4] + "AAAA");
        using var refused = await Http.SendAsync(bad);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task TheManifestListsEveryAssetWithItsHashAndTheFilesMatch()
    {
        var manifest = await Http.GetFromJsonAsync<JsonElement>("/api/assets");
        var names = manifest.EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Contains("ships.json", names);
        Assert.Contains("rules.json", names);
        foreach (var entry in manifest.EnumerateArray())
        {
            var bytes = await Http.GetByteArrayAsync(entry.GetProperty("url").GetString());
            Assert.Equal(entry.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(entry.GetProperty("size").GetInt64(), bytes.Length);
        }
    }

    [Fact]
    public async Task AssetsHaveETagsAnswer304AndAreImmutableByTheirVersionedUrl()
    {
        var manifest = await Http.GetFromJsonAsync<JsonElement>("/api/assets");
        var ships = manifest.EnumerateArray().First(e => e.GetProperty("name").GetString() == "ships.json");
        using var versioned = await Http.GetAsync(ships.GetProperty("url").GetString());
        Assert.Contains("immutable", versioned.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        var etag = versioned.Headers.ETag!;
        Assert.Equal($"\"{ships.GetProperty("sha256").GetString()}\"", etag.Tag);

        using var plain = await Http.GetAsync("/assets/ships.json");
        Assert.True(plain.Headers.CacheControl!.NoCache);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/assets/ships.json");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await Http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var missing = await Http.GetAsync("/assets/nope.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task CachingFollowsTheRulesAProxyOrMonitorExpects()
    {
        // helper-58: a weak ETag (what a compressing proxy makes of a strong one) got 200; "?v=7" made a file immutable
        // for a year; /assets/ was a 400 about a JSON body; HEAD was 405 everywhere.
        using var versioned = await Http.GetAsync("/assets/ships.json");
        var etag = versioned.Headers.ETag!.Tag;
        using var weak = new HttpRequestMessage(HttpMethod.Get, "/assets/ships.json");
        weak.Headers.TryAddWithoutValidation("If-None-Match", $"W/{etag}");
        using (var notModified = await Http.SendAsync(weak))
        {
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }
        using (var shortVersion = await Http.GetAsync("/assets/ships.json?v=" + etag[1..2]))
        {
            Assert.True(shortVersion.Headers.CacheControl!.NoCache);
        }
        foreach (var path in new[] { "/assets/", "/assets" })
        {
            using var empty = await Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, empty.StatusCode);
        }
        foreach (var path in new[] { "/healthz", "/assets/ships.json", "/api/galaxy", "/api/config", "/metrics", "/" })
        {
            using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.True(head.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"HEAD {path}: {head.StatusCode}"); // / without a built client: 503
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task AnApiPathIsNeverAWebClientFile()
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            using var notPost = await Http.SendAsync(new HttpRequestMessage(method, "/api/auth/login"));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, notPost.StatusCode);
            Assert.Equal(["POST"], notPost.Content.Headers.Allow); // only what is allowed (helper-60: PUT listed GET and HEAD)
        }
        using var unknown = await Http.GetAsync("/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not found", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task TheGalaxyMapIsGzippedAndRevalidated()
    {
        using var plainRequest = new HttpRequestMessage(HttpMethod.Get, "/api/galaxy");
        using var plain = await Http.SendAsync(plainRequest);
        var plainBytes = await plain.Content.ReadAsByteArrayAsync();
        Assert.Empty(plain.Content.Headers.ContentEncoding);

        using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, "/api/galaxy");
        gzipRequest.Headers.AcceptEncoding.ParseAdd("gzip, br");
        using var gzipped = await Http.SendAsync(gzipRequest);
        Assert.Equal("gzip", Assert.Single(gzipped.Content.Headers.ContentEncoding));
        Assert.Contains("Accept-Encoding", gzipped.Headers.Vary);
        await using (var unzip = new System.IO.Compression.GZipStream(await gzipped.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress))
        {
            using var copy = new MemoryStream();
            await unzip.CopyToAsync(copy);
            Assert.Equal(plainBytes, copy.ToArray());
        }

        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/galaxy");
        again.Headers.AcceptEncoding.ParseAdd("gzip");
        again.Headers.IfNoneMatch.Add(gzipped.Headers.ETag!);
        using var notModified = await Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.NotEqual(plain.Headers.ETag!.Tag, gzipped.Headers.ETag!.Tag); // one tag per representation
    }

    [Fact]
    public async Task RouteSearchesAreLimitedPerAddress()
    {
        // Each is a search of the whole gate graph (3-4 ms at 100,000 systems), and was unlimited (helper-58).
        await using var server = await TestServer.StartAsync(configure: o => o with
        {
            TrustedProxies = [System.Net.IPNetwork.Parse("127.0.0.0/8")],
            ThrottleClock = new StillClock(), // the 10 s window does not pass however slow the machine
        });
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < Sol.Server.Http.GalaxyEndpoints.RoutesPerAddress + 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/route?from=1&to=12");
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            using var response = await server.Http.SendAsync(request);
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            }
        }
        Assert.All(answers.Take(Sol.Server.Http.GalaxyEndpoints.RoutesPerAddress), a => Assert.Equal(HttpStatusCode.OK, a));
        Assert.All(answers.Skip(Sol.Server.Http.GalaxyEndpoints.RoutesPerAddress), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));

        using var other = new HttpRequestMessage(HttpMethod.Get, "/api/route?from=1&to=12");
        other.Headers.Add("X-Forwarded-For", "203.0.113.10");
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(other)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/api/route?from=1&to=12")).StatusCode); // loopback
    }

    [Fact]
    public async Task TheGalaxyMapAndRoutesDescribeTheServedGalaxy()
    {
        var map = await Http.GetFromJsonAsync<JsonElement>("/api/galaxy");
        Assert.Equal("main", map.GetProperty("name").GetString());
        var systems = map.GetProperty("systems");
        Assert.Equal(12, systems.GetArrayLength());
        Assert.All(systems.EnumerateArray(), s => Assert.True(s.GetProperty("gates").GetArrayLength() >= 2));

        var route = await Http.GetFromJsonAsync<JsonElement>("/api/route?from=1&to=12");
        var hops = route.GetProperty("systems").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(1, hops[0]);
        Assert.Equal(12, hops[^1]);
        Assert.Equal(hops.Count - 1, route.GetProperty("jumps").GetInt32());

        using var bad = await Http.GetAsync("/api/route?from=1&to=99");
        Assert.Equal(HttpStatusCode.NotFound, bad.StatusCode);
        using var malformed = await Http.GetAsync("/api/route?from=a&to=2");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task HealthAndMetricsAnswer()
    {
        var health = await Http.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        var metrics = await Http.GetStringAsync("/metrics");
        foreach (var name in new[] { "sol_connections ", "sol_messages_in_total ", "sol_bytes_out_total ", "sol_tick_duration_seconds_bucket{le=\"+Inf\"}", "sol_tick_total_seconds_bucket{le=\"+Inf\"}", "sol_tick_overruns_total ", "sol_zones_awake ", "sol_inputs_dropped_total ", "sol_requests_dropped_total ", "sol_inputs_unroutable_total ", "sol_inputs_stale_total ", "process_cpu_seconds_total " })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }
        // The whole tick is measured every tick, workers busy or not (helper-64: the coordinator's part was unseen).
        await Eventually.TrueAsync(() => _server.Server.Metrics.TickTotal.Count > 0, TimeSpan.FromSeconds(10), "a whole tick to be measured");
    }

    [Theory]
    [InlineData(2, 2)]  // the third failure from one address is refused, whatever the account
    [InlineData(0, 30)] // no limit per address (many players behind one address): only each account's 5
    public async Task FailedLoginsPerAddressCanBeSetOrLifted(int limit, int refusedAfter)
    {
        await using var server = await TestServer.StartAsync(configure: o => o with { FailedLoginsPerAddress = limit });
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await server.Http.PostAsJsonAsync("/api/auth/login", new { username = $"someone{i}", password = "not this one" });
            answers.Add(response.StatusCode);
        }
        Assert.All(answers.Take(refusedAfter), a => Assert.Equal(HttpStatusCode.Unauthorized, a));
        Assert.All(answers.Skip(refusedAfter), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
    }

    [Fact]
    public async Task BehindATrustedProxyTheForwardedClientIsLimitedAndTheProxyIsNot()
    {
        // The proxy is this test's loopback client: without the flag it would be exempt from every per-address limit,
        // so every client behind it would be too.
        await using var server = await TestServer.StartAsync(configure: o => o with
        {
            GuestLoginsPerAddress = 3,
            TrustedProxies = [System.Net.IPNetwork.Parse("127.0.0.0/8")],
        });
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await GuestAsync(server, $"device-a{i}", "203.0.113.7"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await GuestAsync(server, "device-a3", "203.0.113.7"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GuestAsync(server, "device-a4", "198.51.100.1, 203.0.113.7")); // the proxy adds the hop it saw
        Assert.Equal(HttpStatusCode.OK, await GuestAsync(server, "device-b", "203.0.113.8"));
        Assert.Equal(HttpStatusCode.OK, await GuestAsync(server, "device-c", forwardedFor: null)); // the proxy's own requests: loopback
    }

    [Theory]
    [InlineData(null)]           // no proxy configured: the headers are ignored
    [InlineData("10.0.0.0/8")]   // a proxy, but not the address these requests come from
    public async Task XForwardedForFromAnAddressNotTrustedIsIgnored(string? proxies)
    {
        await using var server = await TestServer.StartAsync(configure: o => o with
        {
            GuestLoginsPerAddress = 1,
            TrustedProxies = proxies is null ? [] : [System.Net.IPNetwork.Parse(proxies)],
        });
        // Taken at its word, the header would make these two requests one address's (limit 1): the second would be 429.
        // The connection's address is loopback, which is not limited.
        Assert.Equal(HttpStatusCode.OK, await GuestAsync(server, "device-1", "203.0.113.7"));
        Assert.Equal(HttpStatusCode.OK, await GuestAsync(server, "device-2", "203.0.113.7"));
    }

    [Fact]
    public async Task WrongPasswordsFromElsewhereDoNotLockTheOwnerOutButGuessingFromManyAddressesIsCapped()
    {
        const int cap = 20; // the account's cap over all addresses (100 by default: each wrong password costs a hash)
        await using var server = await TestServer.StartAsync(configure: o => o with
        {
            TrustedProxies = [System.Net.IPNetwork.Parse("127.0.0.0/8")],
            FailedLoginsPerAccount = cap,
        });
        Assert.Equal(HttpStatusCode.OK, await RegisterAsync(server, "owner", "right password"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(server, "owner", "right password", "198.51.100.1")); // the owner's address

        // Before, five wrong passwords from anywhere locked the account for everyone for five minutes.
        for (var i = 0; i < LoginThrottle.PerAccount; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(server, "owner", "wrong", $"203.0.113.{i + 1}"));
        }
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(server, "owner", "right password", "192.0.2.50"));
        // One address guessing is held after its five.
        for (var i = 1; i < LoginThrottle.PerAccount; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(server, "owner", "wrong", "203.0.113.1"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(server, "owner", "right password", "203.0.113.1"));

        // An IPv6 network is one address: its /64 has all of its 2^64.
        for (var i = 0; i < LoginThrottle.PerAccount; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(server, "owner", "wrong", $"2001:db8:7:7::{i + 1:x}"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(server, "owner", "wrong", "2001:db8:7:7:abcd::1"));

        // Guessing from many addresses stops at the account's cap; the owner's own address still gets in.
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < cap; i++)
        {
            answers.Add(await LoginAsync(server, "owner", "wrong", $"10.0.{i}.9"));
        }
        // 5 + 4 + 5 wrong ones counted above (a success gives its own back): the rest of the cap, then 429.
        Assert.Equal(cap - 14, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.All(answers.Skip(cap - 14), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(server, "owner", "right password", "192.0.2.99"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(server, "owner", "right password", "198.51.100.1"));
    }

    /// <summary>A clock that does not move.</summary>
    private sealed class StillClock : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    [Fact]
    public async Task TheAddressesAnAccountRegisteredOrRefreshedFromAreItsOwnersToo()
    {
        // helper-61: only a password login made an address known, so an owner who had only registered (or refreshed)
        // was locked out by guesses from many addresses.
        await using var server = await TestServer.StartAsync(configure: o => o with
        {
            TrustedProxies = [System.Net.IPNetwork.Parse("127.0.0.0/8")],
            FailedLoginsPerAccount = 3,
        });
        using var register = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register") { Content = JsonContent.Create(new { username = "settler", password = "right password" }) };
        register.Headers.Add("X-Forwarded-For", "203.0.113.50");
        using var registered = await server.Http.SendAsync(register);
        var token = (await registered.Content.ReadFromJsonAsync<TokenReply>())!.Token;
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        refresh.Headers.Add("X-Forwarded-For", "203.0.113.52");
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(refresh)).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(server, "settler", "wrong", $"198.51.100.{i + 1}"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(server, "settler", "right password", "203.0.113.51"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(server, "settler", "right password", "203.0.113.50"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(server, "settler", "right password", "203.0.113.52"));
    }

    [Fact]
    public async Task TheAddressesAnAccountWasUsedFromOutliveARestart()
    {
        // helper-61: they were kept in memory only, so after a restart guesses from many addresses held the owner out again.
        using var data = new TempDirectory();
        var database = data.File("sol.db");
        Func<Sol.Server.Hosting.ServerOptions, Sol.Server.Hosting.ServerOptions> options = o => o with
        {
            TrustedProxies = [System.Net.IPNetwork.Parse("127.0.0.0/8")],
            FailedLoginsPerAccount = 3,
        };
        await using (var first = await TestServer.StartAsync(database, options))
        {
            using var register = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register") { Content = JsonContent.Create(new { username = "settler", password = "right password" }) };
            register.Headers.Add("X-Forwarded-For", "203.0.113.50");
            Assert.Equal(HttpStatusCode.OK, (await first.Http.SendAsync(register)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, await LoginAsync(first, "settler", "right password", "2001:db8:5:5::1"));
        }
        await using var second = await TestServer.StartAsync(database, options);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(second, "settler", "wrong", $"198.51.100.{i + 1}"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginAsync(second, "settler", "right password", "203.0.113.51"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(second, "settler", "right password", "203.0.113.50"));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(second, "settler", "right password", "2001:db8:5:5:abcd::9")); // the same /64
    }

    private static async Task<HttpStatusCode> RegisterAsync(TestServer server, string username, string password)
    {
        using var response = await server.Http.PostAsJsonAsync("/api/auth/register", new { username, password });
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> LoginAsync(TestServer server, string username, string password, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username, password }) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> GuestAsync(TestServer server, string deviceId, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/guest") { Content = JsonContent.Create(new { deviceId }) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task LogoutEndsTheGameSessionNowConnectedOrWaitingForAResume()
    {
        using (var anonymous = await Http.PostAsync("/api/auth/logout", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        // Connected: closed with 4002, the ship saved and removed at once (the resume grace is 30 s here).
        var guest = await _server.GuestAsync("leaver");
        await using (var client = await GameClient.ConnectAsync(_server, guest.Token))
        {
            await client.WaitForAsync(Sol.Protocol.ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
            Assert.Equal(HttpStatusCode.NoContent, await LogoutAsync(guest.Token));
            await client.WaitClosedAsync();
            Assert.Equal((WebSocketCloseStatus)4002, client.CloseStatus);
        }
        var account = (await ServerTokens().ValidateAsync(guest.Token)).AccountId;
        await Eventually.TrueAsync(() => _server.Server.Hub.LivePlayer(account) is null, TimeSpan.FromSeconds(10), "the session to end");

        // Dropped and waiting for a resume: ended too, instead of after the grace.
        var other = await _server.GuestAsync("dropper");
        var otherAccount = (await ServerTokens().ValidateAsync(other.Token)).AccountId;
        await using (var client = await GameClient.ConnectAsync(_server, other.Token))
        {
            await client.WaitForAsync(Sol.Protocol.ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        }
        await Eventually.TrueAsync(() => _server.Server.Hub.LivePlayer(otherAccount)?.Phase == Sol.Server.Game.SessionPhase.Detached, TimeSpan.FromSeconds(10), "the session to wait for a resume");
        Assert.Equal(HttpStatusCode.NoContent, await LogoutAsync(other.Token));
        await Eventually.TrueAsync(() => _server.Server.Hub.LivePlayer(otherAccount) is null, TimeSpan.FromSeconds(10), "the session to end");
        Assert.Equal(0, _server.Server.Hub.Sessions);
        Assert.Equal(HttpStatusCode.Unauthorized, await LogoutAsync(other.Token)); // its session is logged out
    }

    [Fact]
    public async Task ALogoutOutlivesARestart()
    {
        // helper-61: logouts were kept in memory only; after a restart the old token refreshed again (for 30 days).
        using var data = new TempDirectory();
        var database = data.File("sol.db");
        string token;
        await using (var first = await TestServer.StartAsync(database))
        {
            token = (await first.GuestAsync("leaving")).Token;
            using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
            logout.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.NoContent, (await first.Http.SendAsync(logout)).StatusCode);
        }
        await using var second = await TestServer.StartAsync(database);
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var refused = await second.Http.SendAsync(refresh);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("the session was logged out; log in again", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task ALoggedOutSessionsTokensAreRefusedEverywhereAndOtherSessionsPlayOn()
    {
        // Before (helper-58): after a logout its token still refreshed (new tokens for 30 days) and reconnected; and any
        // old token of the account ended the game session of whichever device was playing.
        var phone = await PostAsync<TokenReply>("/api/auth/register", new { username = "roamer", password = "right password" }, HttpStatusCode.OK);
        var laptop = await PostAsync<TokenReply>("/api/auth/login", new { username = "roamer", password = "right password" }, HttpStatusCode.OK);
        await using var playing = await GameClient.ConnectAsync(_server, laptop.Token);
        await playing.WaitForAsync(Sol.Protocol.ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());

        Assert.Equal(HttpStatusCode.NoContent, await LogoutAsync(phone.Token));

        foreach (var path in new[] { "/api/auth/refresh", "/api/auth/logout" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", phone.Token);
            using var response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("the session was logged out; log in again", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }
        using (var me = new HttpRequestMessage(HttpMethod.Get, "/api/me"))
        {
            me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", phone.Token);
            using var refused = await Http.SendAsync(me);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("the session was logged out; log in again", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }
        await Assert.ThrowsAnyAsync<WebSocketException>(() => GameClient.ConnectAsync(_server, phone.Token));

        // The laptop's session plays on, and its token still works.
        Assert.Null(playing.CloseStatus);
        var account = (await ServerTokens().ValidateAsync(laptop.Token)).AccountId;
        Assert.Equal(Sol.Server.Game.SessionPhase.Playing, _server.Server.Hub.LivePlayer(account)?.Phase);
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        refresh.Headers.Authorization = new AuthenticationHeaderValue("Bearer", laptop.Token);
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(refresh)).StatusCode);
    }

    private async Task<HttpStatusCode> LogoutAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/logout");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Http.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData(20, 60)]
    [InlineData(120, 160)]
    public async Task TheMessageRateLeavesRoomForAnInputATickAtAnyTickRate(int tickRate, double rate)
    {
        await using var server = await TestServer.StartAsync(configure: o => o with { TickRate = tickRate });
        Assert.Equal(rate, server.Server.Hub.MessageRate);

        // A minute of a web client at that rate: an input a tick and a ping every 2 s (before: 60 a second at any tick
        // rate, so at 120 Hz every client was closed with 1008 within two seconds).
        var bucket = new Sol.Server.Game.Wire.TokenBucket(server.Server.Hub.MessageRate, server.Server.Hub.MessageRate * 2);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var tick = 1; tick <= 60 * tickRate; tick++)
        {
            var at = start + (long)(tick * (double)System.Diagnostics.Stopwatch.Frequency / tickRate);
            Assert.True(bucket.TryTake(at), $"input {tick} refused");
            if (tick % (2 * tickRate) == 0)
            {
                Assert.True(bucket.TryTake(at), $"ping at input {tick} refused");
            }
        }
    }

    [Fact]
    public async Task HealthSaysFailedWith503OnceTheGameLoopHasStopped()
    {
        await using var server = await TestServer.StartAsync();
        server.Server.Hub.TickHook = _ => throw new InvalidOperationException("a broken pass");
        await server.Server.GameFailed.WaitAsync(TimeSpan.FromSeconds(10));

        using var response = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", health.GetProperty("status").GetString());
        Assert.Contains("the game loop stopped", health.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private Auth.TokenService ServerTokens() => _server.Tokens();

    private async Task<T> PostAsync<T>(string path, object body, HttpStatusCode expected)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
