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
        }

        // The snapshot interval (60 s) never came: only the shutdown flush can have saved the position.
        await using var again = await ServerProcess.StartAsync(_directory.Path);
        var back = await again.GuestAsync("graceful");
        await using var resumed = await GameClient.ConnectAsync(again.GamePort, back.Token);
        var enter2 = await resumed.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await Eventually.TrueAsync(() => resumed.Sees(enter2.Entity), TimeSpan.FromSeconds(10), "own ship");
        var restored = resumed.Latest(enter2.Entity);
        Assert.True(Math.Abs(restored.X - atStop.X) < 60 && Math.Abs(restored.Y - atStop.Y) < 60, $"restored ({restored.X:F0},{restored.Y:F0}) vs stopped ({atStop.X:F0},{atStop.Y:F0})");
    }

    [Fact]
    public async Task AKilledServerLosesAtMostOneSnapshotInterval()
    {
        const int TickRate = 20; // the server's default
        const double Interval = 1;
        List<(ulong Tick, float X, float Y)> path;
        await using (var server = await ServerProcess.StartAsync(_directory.Path, "--snapshot-interval", "1"))
        {
            var guest = await server.GuestAsync("doomed");
            await using var client = await GameClient.ConnectAsync(server.GamePort, guest.Token);
            var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
            await client.WaitForEntityAsync(enter.Entity);
            // Fly on, turning, for three intervals (counted in the server's ticks), then kill the server.
            var from = client.LastTick;
            while (client.LastTick < from + (3 * Interval * TickRate))
            {
                await client.SendInputAsync(1, 0.1f);
                var seen = client.LastTick;
                await Eventually.TrueAsync(() => client.LastTick > seen, TimeSpan.FromSeconds(5), "the next snapshot");
            }
            server.KillHard();
            await server.WaitForExitAsync(10);
            await client.WaitClosedAsync();
            // Every tick's position the client received, not a sample of them: under load the loop above can fall
            // several ticks behind, and a saved position would then lie between two far-apart samples.
            path = [.. client.Track(enter.Entity).Select(t => (t.Tick, t.State.X, t.State.Y))];
        }

        await using var again = await ServerProcess.StartAsync(_directory.Path);
        var back = await again.GuestAsync("doomed");
        await using var resumed = await GameClient.ConnectAsync(again.GamePort, back.Token);
        var enter2 = await resumed.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await resumed.WaitForEntityAsync(enter2.Entity);
        // The ship comes back at rest where it was saved; the first snapshot that shows it is the closest to that.
        var restored = resumed.Track(enter2.Entity)[0].State;
        var (x, y) = (restored.X, restored.Y);
        // The saved position is one the ship held within the last interval (plus half an interval of slack for the
        // write) before the last tick the client saw; a tick of flight at top speed is 21 units.
        var nearest = path.MinBy(p => ((p.X - x) * (p.X - x)) + ((p.Y - y) * (p.Y - y)));
        Assert.True(Math.Abs(nearest.X - x) < 40 && Math.Abs(nearest.Y - y) < 40, $"the restored position ({x:F0},{y:F0}) is not on the flown path ({path[0].X:F0},{path[0].Y:F0}) .. ({path[^1].X:F0},{path[^1].Y:F0}); nearest ({nearest.X:F0},{nearest.Y:F0}) at tick {nearest.Tick}");
        var age = (path[^1].Tick - nearest.Tick) / (double)TickRate;
        Assert.True(age <= Interval + 0.5, $"the saved position is {age:F2} s older than the last tick seen before the kill");
        Assert.True(path[^1].Tick - path[0].Tick >= 3 * Interval * TickRate, "the ship flew for less than three intervals");
    }

    public void Dispose() => _directory.Dispose();
}
