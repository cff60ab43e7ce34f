using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>Stopping and killing the real server process: what survives.</summary>
public sealed class ProcessLifecycleTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task SigtermClosesClientsWith1001SavesEveryoneAndARestartRestoresThem()
    {
        EntityState atStop;
        await using (var server = await ServerProcess.StartAsync(_directory.Path, "--snapshot-interval", "60"))
        {
            var guest = await server.GuestAsync("graceful");
            await using var client = await GameClient.ConnectAsync(server.GamePort, guest.Token);
            var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
            for (var i = 0; i < 20; i++)
            {
                await client.SendInputAsync(1, 0.2f);
            }
            var last = client.LastSeq;
            await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, s => s == last);
            await client.SendInputAsync(0, 0);
            var stopped = client.LastSeq;
            await client.WaitForAsync(ServerPayload.Ack, m => m.PayloadAsAck().LastSeq, s => s == stopped);

            server.Terminate();
            await client.WaitClosedAsync();
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
            Assert.Equal(0, await server.WaitForExitAsync(20));
            atStop = client.Latest(enter.Entity);
            Assert.Contains("stopped", server.Output, StringComparison.Ordinal);
            // The start-up line names the game transport; the raw kind batches its sends with io_uring where it can.
            Assert.Matches(@"game port on ws://\S+ \(Sol\.Transport on raw sockets \(\d+ I/O loops, (sends batched with io_uring|one sendmsg per flush: io_uring unavailable)\)\)", server.Output);
        }

        // The snapshot interval (60 s) never came: only the shutdown flush can have saved the position. The second run
        // sends without io_uring (the game is the same either way).
        await using var again = await ServerProcess.StartAsync(_directory.Path, "--io-uring", "false");
        Assert.Contains("I/O loops, one sendmsg per flush: --io-uring false)", again.Output, StringComparison.Ordinal);
        var back = await again.GuestAsync("graceful");
        await using var resumed = await GameClient.ConnectAsync(again.GamePort, back.Token);
        var enter2 = await resumed.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await Eventually.TrueAsync(() => resumed.Sees(enter2.Entity), TimeSpan.FromSeconds(10), "own ship");
        var restored = resumed.Latest(enter2.Entity);
        Assert.True(Math.Abs(restored.X - atStop.X) < 60 && Math.Abs(restored.Y - atStop.Y) < 60, $"restored ({restored.X:F0},{restored.Y:F0}) vs stopped ({atStop.X:F0},{atStop.Y:F0})");
    }

    [Fact]
    public async Task AGameLoopThatFailsStopsTheServerWithExitCode1AndSavesEveryone()
    {
        var options = new Sol.Server.Hosting.ServerOptions
        {
            Http = new IPEndPoint(IPAddress.Loopback, 0),
            Game = new IPEndPoint(IPAddress.Loopback, 0),
            Database = _directory.File("data/sol.db"),
            JwtSecret = TestServer.Secret,
            DefaultGalaxyZones = 12,
            ZoneWorkers = 1,
            PinThreads = false,
            DataDirectory = _directory.File("data"),
            SnapshotInterval = TimeSpan.FromSeconds(60),
            LogLevel = Microsoft.Extensions.Logging.LogLevel.None,
        };
        var started = new TaskCompletionSource<Sol.Server.Hosting.SolServer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var breakIt = 0;
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // the server must stop by itself well before
        var run = Sol.Server.Hosting.ServerHost.RunAsync(options, TextWriter.Null, s =>
        {
            s.Hub.TickHook = _ =>
            {
                if (Volatile.Read(ref breakIt) == 1)
                {
                    throw new InvalidOperationException("a broken pass");
                }
            };
            started.SetResult(s);
        }, bound.Token);
        var server = await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        using var guest = await http.PostAsJsonAsync("/api/auth/guest", new { deviceId = "witness" });
        var token = (await guest.Content.ReadFromJsonAsync<TokenReply>())!;
        await using var client = await GameClient.ConnectAsync(server.GameEndpoint.Port, token.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var spawned = await client.WaitForEntityAsync(enter.Entity);
        // Far enough that the row written at the join cannot pass for the one the stop must write (helper-48).
        await client.SendInputAsync(1, 0);
        await Eventually.TrueAsync(
            () => client.Sees(enter.Entity) && Math.Abs(client.Latest(enter.Entity).X - spawned.X) + Math.Abs(client.Latest(enter.Entity).Y - spawned.Y) > 400,
            TimeSpan.FromSeconds(15), "the ship to fly 400 units");

        // Before: the loop's thread ended with a line at information level, and the server went on answering "ok"
        // and taking players into a world that stood still, until someone noticed.
        Volatile.Write(ref breakIt, 1);
        Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(bound.IsCancellationRequested);
        Assert.Contains("a broken pass", (await server.GameFailed).ToString(), StringComparison.Ordinal);
        await client.WaitClosedAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);

        // The snapshot interval (60 s) never came: the stop's flush saved the player where the last tick left it.
        var last = client.Latest(enter.Entity);
        var account = (await new Auth.TokenService(System.Text.Encoding.UTF8.GetBytes(TestServer.Secret), TimeSpan.FromHours(1),
            audience: Auth.TokenService.AudienceFor(server.GalaxyId)).ValidateAsync(token.Token)).AccountId;
        await using var store = await Sol.Persistence.SolStore.OpenAsync(options.Database);
        var saved = (await store.LoadPlayerAsync(account, server.GalaxyId))!;
        Assert.True(Math.Abs(saved.X - last.X) < 60 && Math.Abs(saved.Y - last.Y) < 60, $"saved ({saved.X:F0},{saved.Y:F0}) vs last seen ({last.X:F0},{last.Y:F0}), spawned at ({spawned.X:F0},{spawned.Y:F0})");
    }

    [Fact]
    public async Task ASecondServerOnTheSameSqliteFileIsRefusedWithOneLineAndExitCode1()
    {
        // Before, both ran, and one player could play on both at once, their saves racing (helper-71).
        var database = _directory.File("shared/sol.db");
        await using var first = await TestServer.StartAsync(database);
        var error = new StringWriter();
        var code = await Sol.Server.Cli.SolCli.RunAsync(["--db", database, "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--log-level", "none", "--jwt-secret-file", WriteSecret()], TextWriter.Null, error);
        Assert.Equal(1, code);
        var line = Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.Equal($"sol: the database {Path.GetFullPath(database)} is in use by another process ({Path.GetFullPath(database)}.lock is locked: a running server, or atom replacing a galaxy): stop it first, or use another --db", line);
    }

    private string WriteSecret()
    {
        var path = _directory.File("jwt-secret");
        File.WriteAllText(path, TestServer.Secret);
        return path;
    }

    [Fact]
    public async Task PlanetsGoOnFromGalaxyTimeAfterARestartAndNewPlayersStartBesideTheirPlanet()
    {
        var database = _directory.File("orbits/sol.db");
        await (await TestServer.StartAsync(database)).DisposeAsync(); // generates the galaxy
        // As if the galaxy had been made five hours ago (any start after the first).
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE galaxies SET created_at = created_at - 18000000";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        await using var server = await TestServer.StartAsync(database);
        var guest = await server.GuestAsync("orbiter");
        await using var client = await GameClient.ConnectAsync(server, guest.Token);
        var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        var snapshot = await client.WaitForAsync(ServerPayload.Snapshot, m => m.PayloadAsSnapshot());

        // Before: zone time counted from this process's start (0), so every restart put the planets back at their
        // starting angles, away from where ships had been saved beside them.
        Assert.InRange(enter.Time, 18_000 - 5, 18_000 + 60);
        Assert.InRange(snapshot.Time, enter.Time - 1, enter.Time + 5);

        // A new player starts outside its system's first planet, on the planet's side of the star, at zone time.
        var home = (int)enter.SystemId;
        var planet = server.Server.Galaxy.PlanetsOf(home)[0];
        var (px, py) = planet.PositionAt(snapshot.Time);
        var ship = client.Latest(enter.Entity);
        var off = Math.Atan2(py, px) - Math.Atan2(ship.Y, ship.X);
        off -= 2 * Math.PI * Math.Round(off / (2 * Math.PI));
        Assert.True(Math.Abs(off) < 0.3, $"the ship starts {Math.Abs(off):0.00} rad from its planet's direction");
    }

    [Fact]
    public async Task NewPlayersArePlacedByZoneTimeWhichFallsBehindGalaxyTimeWhenTicksOverrun()
    {
        await using var server = await TestServer.StartAsync(_directory.File("lag/sol.db"));
        var world = server.Server.World;
        var clock = new Sol.Server.Game.GalaxyClock((await server.Server.Store.ListGalaxiesAsync())[0].CreatedAt, TimeProvider.System);
        // One pass held until the zone is 3 s behind galaxy time (an overrun): the loop goes on from there, it does
        // not catch up.
        using var held = new ManualResetEventSlim();
        var stalled = 0;
        server.Server.Hub.TickHook = tick =>
        {
            if (tick >= 3 && Interlocked.Exchange(ref stalled, 1) == 0)
            {
                held.Wait(TimeSpan.FromSeconds(30));
            }
        };
        await Eventually.TrueAsync(() => Volatile.Read(ref stalled) == 1 && clock.Now - world.Options.TimeAt(world.Tick) > 3, TimeSpan.FromSeconds(20), "the zone 3 s behind");
        held.Set();
        var heldAt = world.Tick;
        await Eventually.TrueAsync(() => world.Tick > heldAt + 5, TimeSpan.FromSeconds(20), "the loop to go on");
        var lag = clock.Now - world.Options.TimeAt(world.Tick);
        Assert.True(lag > 2.5, $"zone time {lag:0.00} s behind galaxy time");

        // Placed beside the planet where the zone has it (before: where galaxy time has it, 3 s of orbit away).
        var guest = await server.GuestAsync("latecomer");
        var account = (await server.Tokens().ValidateAsync(guest.Token)).AccountId;
        var player = (await server.Server.Store.LoadPlayerAsync(account, server.Server.GalaxyId))!;
        var planet = server.Server.Galaxy.PlanetsOf(player.Zone.Id)[0];
        var (px, py) = planet.PositionAt(world.Options.TimeAt(world.Tick));
        var off = Math.Atan2(py, px) - Math.Atan2(player.Y, player.X);
        off -= 2 * Math.PI * Math.Round(off / (2 * Math.PI));
        var lagAngle = 2 * Math.PI * lag / planet.Period;
        Assert.True(Math.Abs(off) < lagAngle / 3, $"placed {Math.Abs(off):0.0000} rad from the planet's direction in zone time ({lag:0.0} s of orbit: {lagAngle:0.0000} rad)");
    }

    [Fact]
    public async Task AKilledServerLosesAtMostOneSnapshotInterval()
    {
        const int Interval = 1; // seconds (--snapshot-interval)
        List<(ulong Tick, float X, float Y)> path;
        int tickRate;
        await using (var server = await ServerProcess.StartAsync(_directory.Path, "--snapshot-interval", $"{Interval}"))
        {
            var guest = await server.GuestAsync("doomed");
            await using var client = await GameClient.ConnectAsync(server.GamePort, guest.Token);
            tickRate = (int)(await client.WaitForAsync(ServerPayload.Welcome, m => m.PayloadAsWelcome())).TickRate;
            var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
            await client.WaitForEntityAsync(enter.Entity);
            // The server saves on every tick that is a multiple of Interval x tick rate. Fly on, turning, for at least
            // three intervals, then on to a tick 0.75-0.95 of an interval past a save on an odd interval, and kill the
            // server there: saved every interval, the position is 0.75-0.95 s old; saved every second interval, it
            // would be 1.75-1.95 s old and the test fails.
            var save = (ulong)(Interval * tickRate);
            var (from, window) = (client.LastTick, (2 * save) - (save / 4));
            for (var last = from; last < from + (3 * save) || last % (2 * save) < window; last = client.LastTick)
            {
                Assert.True(last < from + (11 * save), "the kill window was never reached");
                await client.SendInputAsync(1, 0.1f);
                await Eventually.TrueAsync(() => client.LastTick > last, TimeSpan.FromSeconds(5), "the next snapshot");
            }
            server.KillHard();
            await server.WaitForExitAsync(10);
            await client.WaitClosedAsync();
            // Every position the client received up to the kill, not a sample of them: under load the loop above falls
            // several ticks behind, and a saved position would then lie between two far-apart samples.
            path = [.. client.Track(enter.Entity).Select(t => (t.Tick, t.State.X, t.State.Y))];
        }

        await using var again = await ServerProcess.StartAsync(_directory.Path);
        var back = await again.GuestAsync("doomed");
        await using var resumed = await GameClient.ConnectAsync(again.GamePort, back.Token);
        var enter2 = await resumed.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await resumed.WaitForEntityAsync(enter2.Entity);
        // The ship comes back at rest where it was saved: its first snapshot shows the saved position.
        var restored = resumed.Track(enter2.Entity)[0].State;
        // Where on the flown path is that? Snapshots can be skipped (an unsent one is replaced by the next), so measure
        // to the segments between the received positions (a tick of flight at top speed is 21 units).
        var (distance, tick) = NearestOnPath(path, restored.X, restored.Y);
        Assert.True(distance < 20, $"the restored position ({restored.X:F0},{restored.Y:F0}) is {distance:F0} units from the flown path ({path[0].X:F0},{path[0].Y:F0}) .. ({path[^1].X:F0},{path[^1].Y:F0})");
        var age = (path[^1].Tick - tick) / tickRate;
        Assert.True(age <= Interval + 0.5, $"the saved position is {age:F2} s older than the kill");
    }

    /// <summary>The distance from (x, y) to the polyline through <paramref name="path"/>, and the tick there.</summary>
    private static (double Distance, double Tick) NearestOnPath(List<(ulong Tick, float X, float Y)> path, double x, double y)
    {
        var best = (Distance: Math.Sqrt(Math.Pow(path[0].X - x, 2) + Math.Pow(path[0].Y - y, 2)), Tick: (double)path[0].Tick);
        for (var i = 1; i < path.Count; i++)
        {
            var (a, b) = (path[i - 1], path[i]);
            var (dx, dy) = ((double)b.X - a.X, (double)b.Y - a.Y);
            var squared = (dx * dx) + (dy * dy);
            var u = squared == 0 ? 0 : Math.Clamp((((x - a.X) * dx) + ((y - a.Y) * dy)) / squared, 0, 1);
            var distance = Math.Sqrt(Math.Pow(a.X + (u * dx) - x, 2) + Math.Pow(a.Y + (u * dy) - y, 2));
            if (distance < best.Distance)
            {
                best = (distance, a.Tick + (u * (b.Tick - a.Tick)));
            }
        }
        return best;
    }

    [Fact]
    public async Task AtALowOpenFileLimitTheServerCapsItsConnectionsAndStaysUp()
    {
        // helper-54: with ulimit -n 400, about 180 connections took the last descriptors and the runtime, unable to start
        // a thread, ended the process ("Out of memory."). Now the limits are set from the open-file limit at the start.
        await using var server = await ServerProcess.StartAsync(_directory.Path, openFileLimit: 400);
        var warning = System.Text.RegularExpressions.Regex.Match(server.Output, @"The open-file limit \(400, \d+ in use\) allows (?<game>\d+) game connections, not the 10000 of --max-connections");
        Assert.True(warning.Success, server.Output);
        var cap = int.Parse(warning.Groups["game"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(cap, 20, 200);

        // Well past what the limit holds (each a different player, each holding its socket): the first `cap` are
        // upgraded, the rest refused (503, or closed at once beyond the handshakes' share), and the process lives on.
        var sockets = new List<System.Net.Sockets.Socket>();
        var upgraded = 0;
        try
        {
            for (var i = 0; i < 220; i++)
            {
                var token = (await server.GuestAsync($"fd-{i}")).Token;
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                sockets.Add(socket);
                var status = await UpgradeStatusAsync(socket, server.GamePort, token);
                if (status == 101)
                {
                    upgraded++;
                }
                else
                {
                    Assert.True(status is 503 or 0, $"connection {i}: {status}");
                    Assert.True(i >= cap, $"connection {i} refused ({status}) under the cap {cap}\n{server.Output}");
                }
            }
            Assert.Equal(cap, upgraded);
            using var http = new HttpClient { BaseAddress = server.Http };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            // The refusals are counted and told (before, each was a debug line: the operator saw nothing; helper-71).
            Assert.Matches(@"(?m)^sol_connections_refused_total [1-9]\d*$", await http.GetStringAsync("/metrics"));
            await Eventually.TrueAsync(() => server.Output.Contains("for want of room since the last such line", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the warning");
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }

        // Room again once they are gone: a real client plays.
        using (var http = new HttpClient { BaseAddress = server.Http })
        {
            await Eventually.TrueAsync(
                () => http.GetStringAsync("/healthz").GetAwaiter().GetResult().Contains("\"connections\":0", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30), "the closed connections to end");
        }
        var guest = await server.GuestAsync("after");
        await using var client = await GameClient.ConnectAsync(server.GamePort, guest.Token);
        await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
    }

    [Fact]
    public async Task AnOpenFileLimitTooLowToStartIsOneLineAndExitCode1()
    {
        // Before: the runtime could not open an ASP.NET Core assembly and the process aborted (134) with its stack trace.
        var (code, output) = await ServerProcess.RunToExitAsync(_directory.Path, openFileLimit: 100, seconds: 60);
        Assert.Equal(1, code);
        var line = Assert.Single(output.Trim().Split('\n'));
        Assert.Matches(@"^sol: the open-file limit \(100, with \d+ in use\) is too low to start: the server needs at least \d+; raise it \(ulimit -n, or LimitNOFILE= in a systemd unit\)$", line);
    }

    /// <summary>Sends a WebSocket upgrade and reads the response's status: 0 when the server closed or reset instead.</summary>
    private static async Task<int> UpgradeStatusAsync(System.Net.Sockets.Socket socket, int port, string token)
    {
        var request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\nSec-WebSocket-Version: 13\r\n" +
            $"Sec-WebSocket-Protocol: sol.v1\r\nAuthorization: Bearer {token}\r\n\r\n";
        var buffer = new byte[64];
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(request));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            var line = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && line.Length >= 12 ? int.Parse(line.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return 0;
        }
    }

    public void Dispose() => _directory.Dispose();
}
