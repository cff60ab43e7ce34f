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
        const double Interval = 1;
        var positions = new List<(DateTime At, float X, float Y)>();
        DateTime killedAt;
        await using (var server = await ServerProcess.StartAsync(_directory.Path, "--snapshot-interval", "1"))
        {
            var guest = await server.GuestAsync("doomed");
            await using var client = await GameClient.ConnectAsync(server.GamePort, guest.Token);
            var enter = await client.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
            // Fly on for three intervals, remembering where the ship was when.
            var until = DateTime.UtcNow.AddSeconds(3 * Interval);
            while (DateTime.UtcNow < until)
            {
                await client.SendInputAsync(1, 0.1f);
                await Eventually.TrueAsync(() => client.Sees(enter.Entity), TimeSpan.FromSeconds(5), "own ship");
                var ship = client.Latest(enter.Entity);
                positions.Add((DateTime.UtcNow, ship.X, ship.Y));
                // One input per snapshot: wait for the next one rather than for a fixed time.
                var seen = client.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick).Count();
                await Eventually.TrueAsync(() => client.Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick).Count() > seen, TimeSpan.FromSeconds(5), "the next snapshot");
            }
            killedAt = DateTime.UtcNow;
            server.KillHard();
            await server.WaitForExitAsync(10);
        }

        await using var again = await ServerProcess.StartAsync(_directory.Path);
        var back = await again.GuestAsync("doomed");
        await using var resumed = await GameClient.ConnectAsync(again.GamePort, back.Token);
        var enter2 = await resumed.WaitForAsync(ServerPayload.ZoneEnter, m => m.PayloadAsZoneEnter());
        await Eventually.TrueAsync(() => resumed.Sees(enter2.Entity), TimeSpan.FromSeconds(10), "own ship");
        var saved = resumed.Latest(enter2.Entity);
        // The saved position is one the ship held within the last interval (plus a tick of slack) before the kill.
        var nearest = positions.MinBy(p => ((p.X - saved.X) * (p.X - saved.X)) + ((p.Y - saved.Y) * (p.Y - saved.Y)));
        Assert.True(Math.Abs(nearest.X - saved.X) < 40 && Math.Abs(nearest.Y - saved.Y) < 40, "the saved position is not on the flown path");
        Assert.True(killedAt - nearest.At <= TimeSpan.FromSeconds(Interval + 0.5), $"saved position is {(killedAt - nearest.At).TotalSeconds:F2} s older than the kill");
    }

    public void Dispose() => _directory.Dispose();
}
