using System.Diagnostics.Metrics;
using Sol.Server.Game;
using Sol.Server.Game.Port;
using Sol.Server.Progress;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;

namespace Sol.Server.Hosting;

/// <summary>The running game: world, scheduler, hub, port and write-behind, stopped in the right order.</summary>
internal sealed record GameParts(ZoneWorld World, ZoneScheduler Scheduler, GameHub Hub, IGamePort Port, PlayerWriteBehind Progress, MeterListener Listener)
{
    public async Task DisposeAsync(TimeSpan timeout)
    {
        await Port.StopAsync(timeout).ConfigureAwait(false);
        Scheduler.Stop();
        await Hub.ApplyPendingAfterStopAsync(timeout).ConfigureAwait(false);
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
