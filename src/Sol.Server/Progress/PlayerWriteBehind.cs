using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Persistence.Model;

namespace Sol.Server.Progress;

/// <summary>
/// Write-behind of player progress. Game threads <see cref="Stage"/> a player's latest state (a short lock, no I/O);
/// a background loop coalesces (the latest version per player wins) and writes everything staged every interval, and
/// at once when <see cref="FlushAsync"/> is called (zone transfer, disconnect, shutdown).
/// </summary>
/// <remarks>
/// <para>
/// A flush writes in chunks of <see cref="ChunkPlayers"/> players, one batched upsert and one transaction per chunk (a
/// player's row and its children are always in the same transaction). With a <see cref="TickPacer"/>, each chunk starts
/// right after a tick completed, so the database work (ours and, on the same machine, the database server's) falls
/// in the idle part of the tick period instead of beside a tick: measured in bench/results/write-behind-flush.md.
/// The last flush on dispose is not paced.
/// </para>
/// <para>
/// When the database is down, the batch stays staged (newer states of the same players replace older ones, so memory
/// is bounded by the number of players), the loop retries with exponential backoff up to the interval (flushes asked
/// for meanwhile wait for the backoff too), and one warning is logged per outage plus one line when it ends. Any
/// failure of a write counts as an outage, not only the database's: the loop never stops while the process runs.
/// Nothing is lost that was staged before a flush succeeded (a state that is not finite is not staged at all, see
/// <see cref="Stage"/>); a crash loses at most what was staged since the last successful flush (one interval).
/// </para>
/// </remarks>
public sealed class PlayerWriteBehind : IAsyncDisposable
{
    /// <summary>Players per chunk unless told otherwise: about 10-15 ms of work for SQLite or PostgreSQL on this project's machines.</summary>
    public const int DefaultChunkPlayers = 500;

    private readonly IPlayerStore _store;
    private readonly TickPacer? _pacer;
    private readonly TimeSpan _interval;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly Task _loop;
    private readonly HashSet<Guid> _notFinite = []; // guarded by _gate: players whose last state offered was not finite (logged once)
    private int _wakeAsked; // 1 while a wake is pending: many FlushAsync calls are one wake (the count stays at 1 or 2)
    private Dictionary<Guid, PlayerRecord> _staged = [];
    private Dictionary<Guid, PlayerRecord> _spare = [];
    private PlayerRecord[] _inFlight = []; // guarded by _gate: the batch being written
    private PlayerRecord[] _lastWritten = []; // guarded by _gate: the last batch written (see Newest)
    // Guarded by _gate. Completed when the next flush to start has succeeded: every FlushAsync until that flush starts
    // shares it (one task for all of them, whatever their number). _nextAsked: it was handed out since the running
    // flush started; a failed flush's waiters then follow it (see Restage).
    private TaskCompletionSource _next = NewSignal();
    private bool _nextAsked;
    private bool _disposed;
    private DateTimeOffset? _outageSince;
    private string? _outageReason; // the kind of failure last logged in this outage
    private long _written;
    private long _chunks;
    private long _failures;

    /// <param name="store">Where progress goes.</param>
    /// <param name="interval">Time between unasked flushes (<c>--snapshot-interval</c>).</param>
    /// <param name="log">Outage warnings.</param>
    /// <param name="pacer">When given, each chunk waits for the end of a tick (see <see cref="TickPacer"/>).</param>
    /// <param name="chunkPlayers">Players per chunk (one upsert and one transaction each).</param>
    public PlayerWriteBehind(IPlayerStore store, TimeSpan interval, ILogger log, TickPacer? pacer = null, int chunkPlayers = DefaultChunkPlayers)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkPlayers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(interval, TimeSpan.FromDays(1));
        _store = store;
        _interval = interval;
        _log = log;
        _pacer = pacer;
        ChunkPlayers = chunkPlayers;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Players written per chunk (one upsert and one transaction each).</summary>
    public int ChunkPlayers { get; }

    /// <summary>Chunks written since start.</summary>
    public long ChunksWritten => Interlocked.Read(ref _chunks);

    /// <summary>Player rows written since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Flushes that failed (database unreachable or erroring).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Players staged and not yet written.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _staged.Count;
            }
        }
    }

    /// <summary>True while the database has been failing since the last successful flush.</summary>
    public bool InOutage => _outageSince is not null;

    /// <summary>Called on the coordinator once a tick is complete: paced chunks start now.</summary>
    public void OnTickCompleted() => _pacer?.OnTickCompleted();

    /// <summary>
    /// Queues <paramref name="player"/> for the next flush; an older staged state of the same player is replaced. A state
    /// with a position, velocity, heading or hull that is not a finite number (a simulation bug) is not staged: SQLite
    /// refuses to store NaN, and the chunk holding it would fail at every flush, holding back everybody's progress. The
    /// last good state stays, and the first such state of a player is logged (again after a good one).
    /// </summary>
    public void Stage(PlayerRecord player)
    {
        ArgumentNullException.ThrowIfNull(player);
        var finite = double.IsFinite(player.X) && double.IsFinite(player.Y) && double.IsFinite(player.Vx) && double.IsFinite(player.Vy) &&
            double.IsFinite(player.Rotation) && double.IsFinite(player.Hull);
        bool report;
        lock (_gate)
        {
            if (!finite)
            {
                report = _notFinite.Add(player.Id);
            }
            else
            {
                if (_notFinite.Count > 0)
                {
                    _notFinite.Remove(player.Id);
                }
                if (!_staged.TryGetValue(player.Id, out var existing) || existing.Version <= player.Version)
                {
                    _staged[player.Id] = player;
                }
                return;
            }
        }
        if (report)
        {
            ReportNotFinite(player);
        }
    }

    /// <summary>
    /// <paramref name="loaded"/> (a player's row just read from the store), or this write-behind's newer state of that
    /// player: staged, being written, or in the last batch written. A player who comes back while its last state is
    /// still here (its leave's flush timed out during an outage, and the database is back before the next attempt) goes
    /// on from that state, not from the older row: otherwise it would play on from an old position, and its new states,
    /// numbered from the old row's version, would lose against the staged one once that is written.
    /// </summary>
    public PlayerRecord Newest(PlayerRecord loaded)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var newest = loaded;
        PlayerRecord[] inFlight, lastWritten;
        lock (_gate)
        {
            if (_staged.TryGetValue(loaded.Id, out var staged) && staged.Version > newest.Version)
            {
                newest = staged;
            }
            inFlight = _inFlight;
            lastWritten = _lastWritten;
        }
        // Outside the lock (the arrays never change once published). The last batch written too: its write may have
        // committed after the row was read.
        foreach (var batch in (ReadOnlySpan<PlayerRecord[]>)[inFlight, lastWritten])
        {
            foreach (var record in batch)
            {
                if (record.Id == loaded.Id && record.Version > newest.Version)
                {
                    newest = record;
                }
            }
        }
        return newest;
    }

    // Its own method: a lambda capturing the parameter in Stage would allocate its closure on every call.
    private void ReportNotFinite(PlayerRecord player) => Log(log => log.LogError(
        "Player {Player}'s state is not finite (x {X}, y {Y}, vx {Vx}, vy {Vy}, rotation {Rotation}, hull {Hull}; version {Version}): not saved, the last good state stays",
        player.Id, player.X, player.Y, player.Vx, player.Vy, player.Rotation, player.Hull, player.Version));

    /// <summary>
    /// Asks for a flush now and waits until one that started after this call has succeeded, so everything staged before
    /// the call is written (or until cancellation). Calls before that flush starts share one task: a caller that does
    /// not wait for it costs nothing, however long the database is down.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The write-behind was disposed.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task done;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            done = _next.Task;
            _nextAsked = true;
        }
        if (Interlocked.Exchange(ref _wakeAsked, 1) == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (ObjectDisposedException)
            {
                // Disposed since the task was taken: the last flush took it, or dispose ends it.
            }
        }
        return cancellationToken.CanBeCanceled ? done.WaitAsync(cancellationToken) : done;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                // Asked for during the last flush, or before a last flush that failed: no flush comes any more.
                _next.TrySetException(new ObjectDisposedException(GetType().FullName, "the write-behind stopped before this flush"));
            }
        }
        _stop.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync()
    {
        var backoff = TimeSpan.Zero;
        while (true)
        {
            var stopping = _stop.IsCancellationRequested;
            try
            {
                if (backoff > TimeSpan.Zero)
                {
                    // In an outage a flush asked for waits for the backoff as well: the hub asks on every zone change,
                    // and each ask would otherwise be one more attempt against a database that is down.
                    await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
                }
                else
                {
                    await _wake.WaitAsync(_interval, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                stopping = true;
            }
            // Take the wake before the flush starts, the count first and then the flag: a FlushAsync that finds the flag
            // still set (and so does not wake the loop) asked before this flush starts, and this flush is the one it
            // waits for; one from here on wakes the loop again.
            while (_wake.Wait(0))
            {
            }
            Interlocked.Exchange(ref _wakeAsked, 0);
            var ok = await FlushOnceAsync(paced: !stopping).ConfigureAwait(false);
            backoff = ok ? TimeSpan.Zero : NextBackoff(backoff);
            if (stopping)
            {
                // On dispose: one last attempt was made above; what could not be written is reported, not retried forever.
                if (!ok)
                {
                    Log(log => log.LogError("Shutting down with {Count} player states unwritten: the database is unreachable", Pending));
                }
                return;
            }
        }
    }

    private async Task<bool> FlushOnceAsync(bool paced)
    {
        Dictionary<Guid, PlayerRecord> batch;
        TaskCompletionSource taken;
        PlayerRecord[] players;
        lock (_gate)
        {
            batch = _staged;
            _staged = _spare;
            _spare = batch;
            taken = _next;
            _next = NewSignal();
            _nextAsked = false;
            // In the same lock as the swap, so Newest finds a staged state in one of the two at every moment.
            players = batch.Count > 0 ? [.. batch.Values] : [];
            if (players.Length > 0)
            {
                _inFlight = players;
            }
        }
        if (players.Length > 0)
        {
            batch.Clear();
            var done = 0;
            var chunk = ChunkSize(players.Length, paced);
            try
            {
                while (done < players.Length)
                {
                    if (paced && _pacer is not null)
                    {
                        await _pacer.WaitAsync(_stop.Token).ConfigureAwait(false);
                    }
                    var count = Math.Min(chunk, players.Length - done);
                    await _store.SavePlayersAsync(new ArraySegment<PlayerRecord>(players, done, count), CancellationToken.None).ConfigureAwait(false);
                    done += count;
                    Interlocked.Add(ref _written, count);
                    Interlocked.Increment(ref _chunks);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Disposing while paced: give the rest back; the loop's last flush writes it unpaced.
                Restage(players, done, taken);
                return false;
            }
            catch (Exception e)
            {
                // The database's failures, and anything else (a bug in a store, say): either way the batch goes back
                // and is retried, and the loop goes on. Before, an unexpected exception ended the loop for good, with
                // that batch gone and every later flush never written.
                Interlocked.Increment(ref _failures);
                Restage(players, done, taken); // first: nothing below may lose the batch
                var database = e is StoreUnavailableException or System.Data.Common.DbException or TimeoutException or IOException;
                var kind = database ? "database" : e.GetType().FullName;
                _outageSince ??= DateTimeOffset.UtcNow;
                // Once per outage, and again when the kind of failure changes (a bug showing up during a network
                // outage is not hidden behind the first warning).
                if (kind != _outageReason)
                {
                    _outageReason = kind;
                    if (database)
                    {
                        Log(log => log.LogWarning("Cannot write player progress ({Reason}); the game goes on and writes are retried", e.Message.ReplaceLineEndings(" ")));
                    }
                    else
                    {
                        Log(log => log.LogError(e, "Cannot write player progress ({Type}: {Reason}); the game goes on and writes are retried", e.GetType().Name, e.Message.ReplaceLineEndings(" ")));
                    }
                }
                return false;
            }
            lock (_gate)
            {
                _inFlight = [];
                _lastWritten = players;
            }
            if (_outageSince is { } since)
            {
                _outageSince = null;
                _outageReason = null;
                Log(log => log.LogWarning("Database back after {Seconds:0.0} s: player progress written again", (DateTimeOffset.UtcNow - since).TotalSeconds));
            }
        }
        taken.TrySetResult();
        return true;
    }

    /// <summary>
    /// Players per chunk for a flush of <paramref name="players"/>: <see cref="ChunkPlayers"/>, unless paced chunks (one
    /// a tick) would take more than half the interval; then larger chunks, so that the flush still ends within half an
    /// interval and a crash still loses at most about one interval (a full chunk then may reach into a tick).
    /// </summary>
    private int ChunkSize(int players, bool paced)
    {
        if (!paced || _pacer is null)
        {
            return ChunkPlayers;
        }
        var ticks = Math.Max(1, (int)(_interval.TotalSeconds * _pacer.TickRate / 2));
        return Math.Max(ChunkPlayers, (players + ticks - 1) / ticks);
    }

    /// <summary>
    /// Puts the unwritten part of a flush (from <paramref name="from"/> on) back under anything staged meanwhile (newer
    /// versions win); its waiters (<paramref name="taken"/>) wait for the next successful flush: they become the next
    /// flush's waiters when nobody asked during this one, else they follow those (one continuation per such failed
    /// flush, and failed flushes are paced by the backoff).
    /// </summary>
    private void Restage(PlayerRecord[] players, int from, TaskCompletionSource taken)
    {
        lock (_gate)
        {
            _inFlight = [];
            _lastWritten = players; // its first chunks may be written: Newest looks here too
            for (var i = from; i < players.Length; i++)
            {
                var player = players[i];
                if (!_staged.TryGetValue(player.Id, out var newer) || newer.Version < player.Version)
                {
                    _staged[player.Id] = player;
                }
            }
            if (!_nextAsked)
            {
                _next = taken;
            }
            else
            {
                _next.Task.ContinueWith(static (done, state) => Follow(done, (TaskCompletionSource)state!), taken, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private TimeSpan NextBackoff(TimeSpan current)
    {
        var next = current == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : current * 2;
        return next > _interval ? _interval : next;
    }

    private static void Follow(Task done, TaskCompletionSource waiters)
    {
        if (done.Exception is { } error)
        {
            waiters.TrySetException(error.InnerExceptions);
        }
        else
        {
            waiters.TrySetResult();
        }
    }

    /// <summary>Logs, and swallows a logger's own failure: the loop that keeps the players' progress must not end on it.</summary>
    private void Log(Action<ILogger> write)
    {
        try
        {
            write(_log);
        }
#pragma warning disable CA1031 // see the summary
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
