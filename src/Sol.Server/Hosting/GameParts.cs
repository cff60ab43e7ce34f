using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sol.Server.Game;
using Sol.Server.Game.Port;
using Sol.Server.Progress;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Server.Hosting;

/// <summary>The running game: world, scheduler, hub, port and write-behind, stopped in the right order.</summary>
internal sealed record GameParts(ZoneWorld World, ZoneScheduler Scheduler, GameHub Hub, IGamePort Port, PlayerWriteBehind Progress, MeterListener Listener, ILogger Log)
{
    public async Task DisposeAsync(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Port.StopAsync(timeout).ConfigureAwait(false);
        Scheduler.Stop();
        // Colonize transactions in flight get what is left of the port's share, and at least a second (a transaction
        // takes milliseconds), so this step adds at most a second to the stop.
        var left = timeout - clock.Elapsed;
        var second = timeout < TimeSpan.FromSeconds(1) ? timeout : TimeSpan.FromSeconds(1);
        try
        {
            await Hub.ApplyPendingAfterStopAsync(left > second ? left : second).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // after a game loop failure this runs the code that failed: the saves below must still happen
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.LogError(e, "Staging the last player states at the stop failed; what was staged before is saved");
        }
        try
        {
            await Progress.FlushAsync().WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The database is unreachable; PlayerWriteBehind logs what stays unwritten.
        }
        await Progress.DisposeAsync().ConfigureAwait(false);
        Listener.Dispose();
        Scheduler.Dispose();
        await Port.DisposeAsync().ConfigureAwait(false);
    }

    public Task DisposeAsync() => DisposeAsync(TimeSpan.FromSeconds(5));
}
