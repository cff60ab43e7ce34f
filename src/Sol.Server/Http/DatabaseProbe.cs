using Sol.Persistence;
using Sol.Server.Progress;

namespace Sol.Server.Http;

/// <summary>
/// What <c>/healthz</c> says of the database: "unreachable" while the write-behind's writes fail, else the answer of a
/// cheap query (the schema version) made at most once every <see cref="Every"/> and shared by the requests meanwhile.
/// The write-behind alone only knew when it had something to write: with nobody playing, a database gone down still
/// read "ok" while every login got 503 (helper-75).
/// </summary>
/// <remarks>
/// A request waits at most <see cref="Timeout"/> for the probe, whatever the store does with its token (SQLite's calls
/// run synchronously and wait up to 30 s on a busy file), so a hung probe makes "unreachable", never a hung health
/// check; the probe runs on the thread pool, and one that has hung for <see cref="Every"/> + <see cref="Timeout"/> is
/// replaced by a new one (helper-78).
/// </remarks>
internal sealed class DatabaseProbe(ISolStore store, PlayerWriteBehind progress, TimeProvider time)
{
    /// <summary>How long one probe's answer stands.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    /// <summary>How long a probe may take before the database counts as unreachable.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private Task<bool>? _last;
    private long _lastAt;

    public async Task<string> StateAsync()
    {
        if (progress.InOutage)
        {
            return "unreachable";
        }
        Task<bool> probe;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_last is null || time.GetElapsedTime(_lastAt, now) >= (_last.IsCompleted ? Every : Every + Timeout))
            {
                (_last, _lastAt) = (Task.Run(ProbeAsync), now);
            }
            probe = _last;
        }
        try
        {
            return await probe.WaitAsync(Timeout, time).ConfigureAwait(false) ? "ok" : "unreachable";
        }
        catch (TimeoutException)
        {
            return "unreachable";
        }
    }

    private async Task<bool> ProbeAsync()
    {
        using var cancel = new CancellationTokenSource(Timeout, time);
        try
        {
            await store.SchemaVersionAsync(cancel.Token).ConfigureAwait(false);
            return true;
        }
#pragma warning disable CA1031 // any failure of the probe is the answer, not an error of the health request
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
