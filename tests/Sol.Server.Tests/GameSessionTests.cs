using System.Net;
using System.Net.WebSockets;
using Google.FlatBuffers;
using Microsoft.Extensions.Logging;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>The join handshake and play, end to end: a real server in-process and real ClientWebSockets.</summary>
public abstract class GameSessionTests : IAsyncLifetime
{
    private TestServer _server = null!;

    protected abstract Task<string?> DatabaseAsync(TempDirectory directory);

    /// <summary>What carries the game socket in this run of the tests.</summary>
    protected virtual Sol.Server.Game.Port.GameTransportKind Transport => Sol.Server.Game.Port.GameTransportKind.Raw;

    private readonly TempDirectory _directory = new();

    public async Task InitializeAsync()
    {
        var database = await DatabaseAsync(_directory);
        Skip.If(database is null, "no PostgreSQL cluster configured");
        // One starting system, so that every test player starts in the same zone.
        _server = await TestServer.StartAsync(database, o => o with { StartingSystems = 1, SnapshotInterval = TimeSpan.FromMilliseconds(200), GameTransport = Transport }, Environment.GetEnvironmentVariable("SOL_TEST_LOG") is null ? null : Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug)));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        _directory.Dispose();
    }

    [SkippableFact]
    public async Task AGuestJoinsAndGetsWelcomeStateZoneAndSnapshotsAtTheTickRate()
    {
        var guest = await _server.GuestAsync("pilot-1");
        await using var client = await GameClient.ConnectAsync(_server, guest.Token);
        var welcome = await client.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome());
        Assert.Equal(guest.PlayerId.ToString("D"), welcome.PlayerId);
        Assert.Equal("sol.v1", welcome.Protocol);
        Assert.Equal(20, welcome.TickRate);
        Assert.False(string.IsNullOrEmpty(welcome.ClientId));

        var state = await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState());
        Assert.Equal(1000, state.Credits);
        Assert.Equal("scout", state.ShipType);
        Assert.Equal(1, state.ExploredLength);

        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        Assert.Equal(Sol.Protocol.ZoneKind.System, enter.ZoneKind);
        Assert.Equal(state.Explored(0), enter.ZoneId);
        Assert.True(enter.Entity != 0);
        Assert.True(enter.StarsLength >= 1);
        Assert.True(enter.GatesLength >= 2);

        // Twenty ticks a second: 20 snapshots arrive within about a second (deadline generous for a loaded machine).
        await client.WaitForAsync(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick, _ => client.Of(ServerPayload.Snapshot, x => x).Count() >= 20, seconds: 10);
        var snapshots = client.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot()).ToList();
        var ticks = snapshots.Select(s => s.Tick).ToList();
        Assert.Equal(ticks.Order(), ticks);
        var own = snapshots[^1];
        Assert.Contains(Enumerable.Range(0, own.EntitiesLength), i => own.Entities(i)!.Value.Id == enter.Entity && own.Entities(i)!.Value.Kind == EntityKind.Ship);
        // Snapshots carry the moving ships only: the stars, planets and gates are in the ZoneEnter.
        Assert.All(snapshots, s => Assert.All(Enumerable.Range(0, s.EntitiesLength), i => Assert.Contains(s.Entities(i)!.Value.Kind, (EntityKind[])[EntityKind.Ship, EntityKind.Npc])));
        // A new ship faces outward from the star at the system's centre.
        var ship = client.Track(enter.Entity)[0].State;
        Assert.Equal(Math.Atan2(ship.Y, ship.X), ship.Rotation, 0.01);
        // Every snapshot comes with this client's Ack naming its ship.
        var acks = client.Of(ServerPayload.Ack, m => m.PayloadAsAck()).ToList();
        Assert.True(acks.Count >= snapshots.Count - 1);
        Assert.All(acks, a => Assert.Equal(enter.Entity, a.Entity));
        Assert.Equal(0, client.InvalidMessages);
    }

    [SkippableFact]
    public async Task InputsMoveTheShipAndTheAckedSequenceAdvances()
    {
        var guest = await _server.GuestAsync("pilot-2");
        await using var client = await GameClient.ConnectAsync(_server, guest.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var start = await client.WaitForEntityAsync(enter.Entity);
        for (var i = 0; i < 30; i++)
        {
            await client.SendInputAsync(1, 0);
            await Task.Yield();
        }
        var last = client.LastSeq;
        await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, seq => seq == last);
        await Eventually.TrueAsync(
            () => Distance(start, client.Latest(enter.Entity)) > 10,
            TimeSpan.FromSeconds(10), "the ship to move under thrust");
    }

    [SkippableFact]
    public async Task TwoPlayersInOneZoneSeeEachOther()
    {
        await using var a = await GameClient.ConnectAsync(_server, (await _server.GuestAsync("pilot-a")).Token);
        await using var b = await GameClient.ConnectAsync(_server, (await _server.GuestAsync("pilot-b")).Token);
        var enterA = await a.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var enterB = await b.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        Assert.Equal(enterA.ZoneId, enterB.ZoneId);
        await Eventually.TrueAsync(() => a.Sees(enterB.Entity) && b.Sees(enterA.Entity), TimeSpan.FromSeconds(10), "each to see the other's ship");
    }

    [SkippableFact]
    public async Task AReconnectFindsTheSavedPosition()
    {
        var guest = await _server.GuestAsync("pilot-3");
        float x, y;
        await using (var client = await GameClient.ConnectAsync(_server, guest.Token))
        {
            var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
            await client.WaitForEntityAsync(enter.Entity);
            for (var i = 0; i < 20; i++)
            {
                await client.SendInputAsync(1, 0.3f);
            }
            var last = client.LastSeq;
            await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, seq => seq == last);
            // Let it coast a little, then leave.
            var atLeave = client.Latest(enter.Entity);
            (x, y) = (atLeave.X, atLeave.Y);
            await client.CloseAsync();
        }
        await Eventually.TrueAsync(() => _server.Server.Hub.Sessions == 0, TimeSpan.FromSeconds(10), "the session to end");
        await _server.Server.Progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));

        await using var again = await GameClient.ConnectAsync(_server, guest.Token);
        var enter2 = await again.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var ship = await again.WaitForEntityAsync(enter2.Entity);
        // The ship was saved where it was when the client left (it drifted on for at most a tick or two after).
        Assert.True(Math.Abs(ship.X - x) < 200 && Math.Abs(ship.Y - y) < 200, $"saved ({ship.X:F0}, {ship.Y:F0}) vs left at ({x:F0}, {y:F0})");
        Assert.NotEqual((0f, 0f), (ship.X, ship.Y));
    }

    [SkippableTheory]
    [InlineData(42.5, 42.5)]
    [InlineData(0, 100)] // none saved: full
    [InlineData(500, 100)] // more than a scout has: capped
    public async Task ASavedShipComesBackWithItsDamageAndHeading(double saved, float expected)
    {
        // The login creates the record; damage it in the database before the first connection, as if a star had
        // burned the ship before the player left (no session exists yet, so nothing in memory can overwrite it).
        var device = $"pilot-hull-{saved}";
        var guest = await _server.GuestAsync(device);
        var account = await _server.Server.Store.FindOrCreateDeviceAccountAsync(device);
        var record = (await _server.Server.Store.LoadPlayerAsync(account.Id, _server.Server.GalaxyId))!;
        Assert.Equal(guest.PlayerId, record.Id);
        await _server.Server.Store.SavePlayersAsync([record with { Hull = saved, Rotation = 1.25, Version = record.Version + 1 }]);

        await using var client = await GameClient.ConnectAsync(_server, guest.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await client.WaitForEntityAsync(enter.Entity);
        var first = client.Track(enter.Entity)[0].State;
        Assert.Equal(expected, first.Hull);
        Assert.Equal(1.25f, first.Rotation, 1e-4f);
        // PlayerState (sent before the ship is placed) says the same hull.
        var state = await client.WaitForAsync(ServerPayload.PlayerState, m => m.PayloadAsPlayerState());
        Assert.Equal(expected, state.Hull);
    }

    [SkippableFact]
    public async Task ASecondConnectionOfTheSameAccountReplacesTheFirst()
    {
        var guest = await _server.GuestAsync("pilot-4");
        await using var first = await GameClient.ConnectAsync(_server, guest.Token);
        await first.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await using var second = await GameClient.ConnectAsync(_server, guest.Token, tokenInQuery: true);
        await first.WaitClosedAsync();
        Assert.Equal(4000, (int)first.CloseStatus!.Value);
        await second.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await Eventually.TrueAsync(() => _server.Server.World.ShipCount == 1, TimeSpan.FromSeconds(10), "one ship for the account");
    }

    [SkippableFact]
    public async Task AMalformedMessageClosesWith1007()
    {
        await using var client = await GameClient.ConnectAsync(_server, (await _server.GuestAsync("pilot-5")).Token);
        await client.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome());
        await client.SendAsync(new byte[] { 12, 0, 0, 0, 255, 255, 1, 2, 3 });
        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, client.CloseStatus);
        Assert.True(_server.Server.Metrics.BadMessages >= 1);
    }

    [SkippableFact]
    public async Task FloodingPastTheRateLimitClosesWith1008()
    {
        await using var client = await GameClient.ConnectAsync(_server, (await _server.GuestAsync("pilot-6")).Token);
        await client.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome());
        for (var i = 0; i < 400 && !client.Closed; i++)
        {
            try
            {
                await client.SendInputAsync(0, 0);
            }
            catch (WebSocketException)
            {
                break;
            }
        }
        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.CloseStatus);
    }

    [SkippableFact]
    public async Task AnUnknownMessageTypeGetsAnErrorAndTheConnectionStays()
    {
        await using var client = await GameClient.ConnectAsync(_server, (await _server.GuestAsync("pilot-7")).Token);
        await client.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome());
        var b = new FlatBufferBuilder(64);
        Ping.StartPing(b);
        var payload = Ping.EndPing(b);
        b.Finish(ClientMessage.CreateClientMessage(b, (ClientPayload)77, payload.Value).Value);
        await client.SendAsync(b.SizedByteArray());
        var error = await client.WaitForAsync(ServerPayload.Error, m => m.PayloadAsError());
        Assert.Equal(ErrorCode.UnknownMessage, error.Code);
        await client.SendAsync(client.Writer.Ping(42));
        var pong = await client.WaitForAsync(ServerPayload.Pong, m => m.PayloadAsPong());
        Assert.Equal(42, pong.ClientTime);
        Assert.False(client.Closed);
    }

    [SkippableFact]
    public async Task TheHandshakeRefusesBadTokensBeforeTheUpgrade()
    {
        var guest = await _server.GuestAsync("pilot-8");
        var port = _server.Server.GameEndpoint.Port;
        var expired = _server.Tokens(TimeSpan.FromHours(-2)).Issue(guest.PlayerId, Guid.NewGuid()).Token;
        var forged = new Auth.TokenService(new byte[48], TimeSpan.FromHours(1)).Issue(Guid.NewGuid(), Guid.NewGuid()).Token;
        var parts = guest.Token.Split('.');
        var algNone = $"{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{parts[1]}.";

        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync(port, null, "sol.v1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync(port, forged, "sol.v1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync(port, algNone, "sol.v1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await UpgradeStatusAsync(port, expired, "sol.v1"));
        Assert.Equal(HttpStatusCode.BadRequest, await UpgradeStatusAsync(port, guest.Token, "sol.v9"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await UpgradeStatusAsync(port, guest.Token, "sol.v9, sol.v1"));

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.UpgradeRequired, (await http.GetAsync($"http://127.0.0.1:{port}/ws")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{port}/elsewhere")).StatusCode);
    }

    private static async Task<HttpStatusCode> UpgradeStatusAsync(int port, string? token, string protocols)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        var request =
            $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocols}\r\n" +
            (token is null ? "" : $"Authorization: Bearer {token}\r\n") + "\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        var buffer = new byte[1024];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var status = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Split(' ')[1];
        return (HttpStatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static double Distance(EntityState a, EntityState b) => Math.Sqrt(((a.X - b.X) * (a.X - b.X)) + ((a.Y - b.Y) * (a.Y - b.Y)));
}

public sealed class SqliteGameSessionTests : GameSessionTests
{
    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));
}

public sealed class PostgresGameSessionTests : GameSessionTests
{
    protected override Task<string?> DatabaseAsync(TempDirectory directory) => PostgresDatabase.CreateAsync("game");
}

/// <summary>The same play over Sol.Transport on Kestrel's socket transport.</summary>
public sealed class KestrelSocketsGameSessionTests : GameSessionTests
{
    protected override Sol.Server.Game.Port.GameTransportKind Transport => Sol.Server.Game.Port.GameTransportKind.Kestrel;

    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));
}

/// <summary>The same play over Sol.Transport on Pipelines.Sockets.Unofficial.</summary>
public sealed class PipelinesSocketsGameSessionTests : GameSessionTests
{
    protected override Sol.Server.Game.Port.GameTransportKind Transport => Sol.Server.Game.Port.GameTransportKind.Pipelines;

    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));
}

/// <summary>The same play over the ASP.NET Core WebSockets baseline port.</summary>
public sealed class AspNetPortGameSessionTests : GameSessionTests
{
    protected override Sol.Server.Game.Port.GameTransportKind Transport => Sol.Server.Game.Port.GameTransportKind.AspNet;

    protected override Task<string?> DatabaseAsync(TempDirectory directory) => Task.FromResult<string?>(directory.File("data/sol.db"));
}
