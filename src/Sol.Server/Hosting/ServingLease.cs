using System.Globalization;
using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Persistence.Model;

namespace Sol.Server.Hosting;

/// <summary>
/// This server's lease on serving its galaxy in a shared database (CockroachDB, PostgreSQL), so that a second server
/// started on the same galaxy does not serve it too (its players in two worlds at once, their saves racing). Taken at
/// the start, renewed every third of its term while the server runs, released at a clean stop. An embedded SQLite file
/// needs none: the server locks the file itself.
/// </summary>
/// <remarks>
/// A server that finds the lease held waits to see which kind of holder it is: one that runs renews it within a third
/// of the term (then this one refuses to start, in one line); one that stopped without a clean stop (killed, its host
/// gone) lets it run out, and this one takes it over — so a restart after a crash waits at most one term (30 s). The
/// lease's end is in the holder's clock: hosts whose clocks differ by a good part of the term would see it end early or
/// late (NTP keeps them within milliseconds). A holder that cannot renew (the database unreachable) keeps serving and
/// keeps trying; when another server took the galaxy over meanwhile, its next renewal finds that and
/// the server stops (<see cref="SolServer.GameFailed"/>).
/// </remarks>
internal sealed class ServingLease : IAsyncDisposable
{
    private readonly ISolStore _store;
    private readonly Guid _galaxyId;
    private readonly string _galaxyName;
    private readonly TimeSpan _term;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Action<Exception> _lost;
    private readonly CancellationTokenSource _stop = new();
    private Task _renewing = Task.CompletedTask;

    private ServingLease(ISolStore store, Guid galaxyId, string galaxyName, string holder, TimeSpan term, TimeProvider time, ILogger log, Action<Exception> lost)
    {
        _store = store;
        _galaxyId = galaxyId;
        _galaxyName = galaxyName;
        Holder = holder;
        _term = term;
        _time = time;
        _log = log;
        _lost = lost;
    }

    /// <summary>Who holds it: host, process id and a random part (two processes of one host in containers may share an id).</summary>
    public string Holder { get; }

    /// <summary>When the last taking or renewal ends (this server's clock).</summary>
    public DateTimeOffset Until { get; private set; }

    /// <summary>
    /// Takes the lease, waiting while a holder that may have stopped lets it run out. Throws
    /// <see cref="ServerStartException"/> when another server serves the galaxy (it renewed its lease meanwhile).
    /// </summary>
    /// <param name="lost">Called once, on the thread pool, when another server took the galaxy over (see remarks).</param>
    public static async Task<ServingLease> TakeAsync(
        ISolStore store, Guid galaxyId, string galaxyName, TimeSpan term, TimeProvider time, ILogger log, Action<Exception> lost, CancellationToken cancellationToken)
    {
        var holder = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}");
        var lease = new ServingLease(store, galaxyId, galaxyName, holder, term, time, log, lost);
        GalaxyLease? seen = null;
        while (true)
        {
            var now = time.GetUtcNow();
            var current = await store.TakeGalaxyLeaseAsync(galaxyId, holder, now, term, cancellationToken).ConfigureAwait(false);
            if (current.Holder == holder)
            {
                if (seen is { } before)
                {
                    log.LogWarning("Took over the galaxy '{Galaxy}' from {Holder}, whose lease ran out unrenewed at {Until}", galaxyName, before.Holder, Format(before.Until));
                }
                lease.Until = current.Until;
                lease._renewing = Task.Run(lease.RenewAsync, CancellationToken.None);
                return lease;
            }
            if (seen is { } earlier && (earlier.Holder != current.Holder || earlier.Until != current.Until))
            {
                throw new ServerStartException(
                    $"the galaxy '{galaxyName}' is served by another server ({current.Holder}, which renewed its lease until {Format(current.Until)}): stop it first, or serve another --galaxy");
            }
            if (seen is null)
            {
                log.LogWarning(
                    "The galaxy '{Galaxy}' is leased by {Holder} until {Until}: waiting to see whether that server runs (it would renew within {Renew:0.#} s) or stopped without a clean stop (its lease then runs out and is taken over)",
                    galaxyName, current.Holder, Format(current.Until), lease.RenewEvery.TotalSeconds);
            }
            seen = current;
            // Until the lease has run out or a running holder would have renewed it, whichever comes first.
            var wait = current.Until - now;
            wait = wait > lease.RenewEvery ? lease.RenewEvery : wait;
            await Task.Delay(wait + TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan RenewEvery => _term / 3;

    private async Task RenewAsync()
    {
        var failing = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RenewEvery, _time, _stop.Token).ConfigureAwait(false);
                var current = await _store.TakeGalaxyLeaseAsync(_galaxyId, Holder, _time.GetUtcNow(), _term, _stop.Token).ConfigureAwait(false);
                if (current.Holder != Holder)
                {
                    var e = new GalaxyTakenOverException(
                        $"another server ({current.Holder}) took the galaxy '{_galaxyName}' over after this server's lease ran out at {Format(Until)} unrenewed");
                    _log.LogCritical("{Message}: this server stops", e.Message);
                    _lost(e);
                    return;
                }
                if (failing)
                {
                    _log.LogInformation("Renewed the lease on the galaxy '{Galaxy}' again", _galaxyName);
                    failing = false;
                }
                Until = current.Until;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the database's errors (unreachable, a dropped connection) are retried on the next turn
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (!failing)
                {
                    // Once an outage: the write-behind and /healthz tell of the database already.
                    _log.LogWarning("Cannot renew the lease on the galaxy '{Galaxy}' (until {Until}): {Reason}; trying again every {Renew:0.#} s", _galaxyName, Format(Until), e.Message.ReplaceLineEndings(" "), RenewEvery.TotalSeconds);
                    failing = true;
                }
            }
        }
    }

    /// <summary>Stops renewing and releases the lease (a clean stop: the next server takes it at once), waiting at most 2 s for the database.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _store.ReleaseGalaxyLeaseAsync(_galaxyId, Holder, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a stop goes on: the lease then runs out by itself
        catch (Exception e)
#pragma warning restore CA1031
        {
            _log.LogWarning("Cannot release the lease on the galaxy '{Galaxy}' ({Reason}): the next server takes it over when it runs out, at {Until}", _galaxyName, e.Message.ReplaceLineEndings(" "), Format(Until));
        }
        _stop.Dispose();
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}

/// <summary>Another server took this server's galaxy over (see <see cref="ServingLease"/>): this one stops.</summary>
public sealed class GalaxyTakenOverException : Exception
{
    public GalaxyTakenOverException()
    {
    }

    public GalaxyTakenOverException(string message)
        : base(message)
    {
    }

    public GalaxyTakenOverException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
