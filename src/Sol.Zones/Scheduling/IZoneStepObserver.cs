using Sol.Zones.Simulation;

namespace Sol.Zones.Scheduling;

/// <summary>
/// The server's hook into the tick: encode and broadcast a zone's snapshot right after it stepped, on the worker that
/// stepped it, and drain transfers once the tick is complete.
/// </summary>
/// <remarks>
/// <see cref="OnZoneStepped"/> runs on a worker thread, concurrently with other zones' steps (never with another call
/// for the same zone); the zone's <see cref="Zone.GetSnapshot"/> is valid for the duration of the call. Keep it
/// allocation-free and short: its time counts toward the tick. <see cref="OnTickCompleted"/> runs on the coordinator
/// after every zone stepped and every transfer of the tick was applied, before the next tick begins.
/// </remarks>
public interface IZoneStepObserver
{
    void OnZoneStepped(Zone zone);

    void OnTickCompleted(long tick);
}
