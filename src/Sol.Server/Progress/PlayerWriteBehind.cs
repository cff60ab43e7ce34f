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
/// <para>
/// A state the database refuses (<see cref="StoreErrors.IsRefusal"/>: a constraint, a value it cannot store) holds back
/// nobody else. A flush writes every chunk whole first; a refused chunk is then written in halves, and halves of the
/// refused halves, until each refusal is one player, so what the others staged is written whatever their order; at most
/// <see cref="MaxIsolationWrites"/> writes a chunk, and the parts not tried by then go with the next flush, at once (the
/// flush's waiters wait for that one). The refused player's newest state is kept apart (<see cref="Refused"/>,
/// <see cref="IsRefused"/>), with any newer state of that player replacing it, and tried again: once an interval all
/// the kept states together (a chunk at a time) and up to <see cref="MaxIsolationWrites"/> each on its own (half with a
/// newer state, half the ones tried longest ago: each of N kept states within about N / 32 intervals); at other flushes
/// up to eight with a newer state on their own; at dispose up to 1,000 on their own. A kept state is never dropped: it
/// is logged when refused, when it goes in at last, and at dispose if it never did.
/// </para>
/// <para>
/// A refusal is taken for the rows' fault only when the database takes rows: something else of the flush goes in, or,
/// when nothing does (the first refused chunk taken apart included), the probe goes in: a state the database holds
/// (written by this process, or loaded at a join) written in full and rolled back. Otherwise (no such state yet, or
/// the probe is refused too: a schema the database does not match, say) it is an outage as above, with nothing kept
/// apart, and the cost is the whole chunks, one chunk taken apart and the probe per attempt.
/// </para>
/// </remarks>
public sealed class PlayerWriteBehind : IAsyncDisposable
{
    /// <summary>Players per chunk unless told otherwise: about 10-15 ms of work for SQLite or PostgreSQL on this project's machines.</summary>
    public const int DefaultChunkPlayers = 500;

    /// <summary>
    /// Writes a flush spends at most finding the refused players of one chunk: a refused player in a chunk of 500 takes
    /// about 18, so a few refused players are found in one flush; more take a few flushes.
    /// </summary>
    public const int MaxIsolationWrites = 64;

    /// <summary>Refused players logged one by one per flush; the rest are counted.</summary>
    private const int RefusalsLogged = 10;

    /// <summary>Kept states the last flush at dispose tries each on its own.</summary>
    private const int MaxKeptTriedAtStop = 1_000;

    /// <summary>Kept states with a newer state a flush tries each on its own between the full tries (once an interval).</summary>
    private const int KeptChangedPerFlush = 8;

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
    private long _batchesEnded; // guarded by _gate: times _lastWritten was replaced (see ReadMark)
    private readonly Dictionary<Guid, Kept> _refused = []; // guarded by _gate, changed by the loop only: see Refused
    private long _flushes; // flushes started (the loop's own): when a kept state was last tried on its own
    // Guarded by _gate. Completed when the next flush to start has succeeded: every FlushAsync until that flush starts
    // shares it (one task for all of them, whatever their number). _nextAsked: it was handed out since the running
    // flush started; a failed flush's waiters then follow it (see Restage).
    private TaskCompletionSource _next = NewSignal();
    private bool _nextAsked;
    private bool _disposed;
    private PlayerRecord? _probe; // a state the database holds (written, or loaded at a join): see TakesRowsAsync
    private long _keptDue; // Environment.TickCount64 from which the kept states are all tried again (see KeptToTry)
    private int _unsavedAtStop;
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

    /// <summary>Writes (one transaction each) that succeeded since start: whole chunks, and the parts and single players of refused ones.</summary>
    public long ChunksWritten => Interlocked.Read(ref _chunks);

    /// <summary>Player rows written since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Flushes that failed (database unreachable or erroring).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>
    /// Players whose last state was not saved when the write-behind stopped (unwritten, or refused by the database): lost
    /// with the process. 0 until it stops; the server's exit code says so.
    /// </summary>
    public int UnsavedAtStop => Volatile.Read(ref _unsavedAtStop);

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

    /// <summary>
    /// Players whose newest state the database refused (a constraint, a value it cannot store): kept here, out of the
    /// chunks, and tried again (see the remarks) until one of their states goes in.
    /// </summary>
    public int Refused
    {
        get
        {
            lock (_gate)
            {
                return _refused.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="playerId"/>'s newest state is one the database refused (see <see cref="Refused"/>).</summary>
    public bool IsRefused(Guid playerId)
    {
        lock (_gate)
        {
            return _refused.ContainsKey(playerId);
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
    /// player: staged, being written, in the last batch written, or refused by the database. A player who comes back
    /// while its last state is still here (its leave's flush timed out during an outage, and the database is back before
    /// the next attempt; or the database refused it) goes on from that state, not from the older row: otherwise it would
    /// play on from an old position, and its new states, numbered from the old row's version, would lose against the
    /// staged one once that is written.
    /// </summary>
    /// <param name="loaded">The row.</param>
    /// <param name="readMark">What <see cref="ReadMark"/> said before the row was read.</param>
    /// <returns>
    /// Null when more than one batch finished writing since <paramref name="readMark"/>: the first of them may have
    /// committed a newer state after the row was read and is no longer held here, so the row must be read again.
    /// </returns>
    public PlayerRecord? Newest(PlayerRecord loaded, long readMark)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        Interlocked.CompareExchange(ref _probe, loaded, null); // a state the database holds: a probe before anything is written
        var newest = loaded;
        PlayerRecord[] inFlight, lastWritten;
        lock (_gate)
        {
            if (_batchesEnded - readMark > 1)
            {
                return null;
            }
            if (_staged.TryGetValue(loaded.Id, out var staged) && staged.Version > newest.Version)
            {
                newest = staged;
            }
            if (_refused.TryGetValue(loaded.Id, out var refused) && refused.State.Version > newest.Version)
            {
                newest = refused.State;
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

    /// <summary>
    /// To be taken before a player's row is read, and given to <see cref="Newest"/> with the row: a write that may have
    /// committed after the read began is then either still held here or known to be missed.
    /// </summary>
    public long ReadMark()
    {
        lock (_gate)
        {
            return _batchesEnded;
        }
    }

    // Its own method: a lambda capturing the parameter in Stage would allocate its closure on every call.
    private void ReportNotFinite(PlayerRecord player) => Log(log => log.LogError(
        "Player {Player}'s state is not finite (x {X}, y {Y}, vx {Vx}, vy {Vy}, rotation {Rotation}, hull {Hull}; version {Version}): not saved, the last good state stays",
        player.Id, player.X, player.Y, player.Vx, player.Vy, player.Rotation, player.Hull, player.Version));

    /// <summary>
    /// Asks for a flush now and waits until one that started after this call has succeeded, so everything staged before
    /// the call is written, or refused by the database and kept apart (see <see cref="Refused"/>), or until
    /// cancellation. Calls before that flush starts share one task: a caller that does not wait for it costs nothing,
    /// however long the database is down.
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
        AskForFlush();
        return cancellationToken.CanBeCanceled ? done.WaitAsync(cancellationToken) : done;
    }

    /// <summary>Wakes the loop for a flush, unless a wake is already pending.</summary>
    private void AskForFlush()
    {
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
                // On dispose: one last attempt was made above (and a few more while it leaves parts for the next one,
                // finding refused players); what could not be written is reported, not retried forever.
                for (var more = 0; ok && (Pending > 0 || more == 0) && more < 16; more++)
                {
                    // Also once more with every kept state tried on its own (some may be refused only with others).
                    ok = await FlushOnceAsync(paced: false, last: more == 0).ConfigureAwait(false);
                }
                var unwritten = Pending;
                if (!ok || unwritten > 0)
                {
                    Log(log => log.LogError("Shutting down with {Count} player states unwritten: {Reason}", unwritten, ok ? "still finding the states the database refuses" : "the database is unreachable or refuses them"));
                }
                Volatile.Write(ref _unsavedAtStop, unwritten + ReportRefusedAtStop());
                return;
            }
        }
    }

    private async Task<bool> FlushOnceAsync(bool paced, bool last = false)
    {
        Dictionary<Guid, PlayerRecord> batch;
        TaskCompletionSource taken;
        PlayerRecord[] players;
        PlayerRecord[] kept;
        PlayerRecord[] alone;
        lock (_gate)
        {
            batch = _staged;
            _staged = _spare;
            _spare = batch;
            taken = _next;
            _next = NewSignal();
            _nextAsked = false;
            _flushes++;
            if (_refused.Count > 0 && batch.Count > 0)
            {
                // A refused player's newer states stay out of the chunks: they are tried on their own below.
                foreach (var (id, refused) in _refused.ToArray())
                {
                    if (batch.Remove(id, out var newer) && newer.Version > refused.State.Version)
                    {
                        _refused[id] = refused with { State = newer, Changed = true };
                    }
                }
            }
            // In the same lock as the swap, so Newest finds a staged state in one of the two at every moment.
            players = batch.Count > 0 ? [.. batch.Values] : [];
            (kept, alone) = KeptToTry(Environment.TickCount64 >= _keptDue, last);
            if (players.Length > 0)
            {
                _inFlight = players;
            }
        }
        if (players.Length == 0 && kept.Length == 0 && alone.Length == 0)
        {
            taken.TrySetResult();
            return true;
        }
        batch.Clear();
        var done = 0;
        var fresh = new Isolation(); // this flush's players: refused ones found, parts left for the next flush
        var refusedChunks = new List<(ArraySegment<PlayerRecord> Chunk, Exception Refusal)>();
        var accepted = new List<PlayerRecord>(); // kept states that went in
        var probed = false; // nothing of this flush's own went in, but the database took the probe
        try
        {
            // Every chunk whole first: a refused one is taken apart below, once it is known whether anything went in.
            var chunk = ChunkSize(players.Length, paced);
            while (done < players.Length)
            {
                if (paced && _pacer is not null)
                {
                    await _pacer.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
                var part = new ArraySegment<PlayerRecord>(players, done, Math.Min(chunk, players.Length - done));
                try
                {
                    await SaveAsync(part).ConfigureAwait(false);
                    fresh.Went();
                }
                catch (Exception e) when (StoreErrors.IsRefusal(e))
                {
                    refusedChunks.Add((part, e));
                }
                done += part.Count;
            }
            for (var i = 0; i < refusedChunks.Count; i++)
            {
                await IsolateAsync(refusedChunks[i].Chunk, refusedChunks[i].Refusal, fresh).ConfigureAwait(false);
                if (i == 0 && !fresh.Wrote)
                {
                    if (!await TakesRowsAsync().ConfigureAwait(false))
                    {
                        // Nothing went in, and the database refuses a state it took before: the refusal is the
                        // database's, not the rows' (a schema it does not match, say), and handled as an outage.
                        throw refusedChunks[0].Refusal;
                    }
                    probed = true;
                }
                refusedChunks[i] = default; // settled: written, refused or left
            }
            // The states refused before: all of them a chunk at a time (they go in together when the cause is gone),
            // then some on their own, those with a newer state first, then the ones tried longest ago.
            HashSet<Guid>? whole = kept.Length > 0 ? [] : null; // tried already, in a chunk of its own or one that went in
            for (var from = 0; from < kept.Length; from += ChunkPlayers)
            {
                var part = new ArraySegment<PlayerRecord>(kept, from, Math.Min(ChunkPlayers, kept.Length - from));
                try
                {
                    await SaveAsync(part).ConfigureAwait(false);
                    accepted.AddRange(part);
                    whole!.UnionWith(part.Select(static p => p.Id));
                }
                catch (Exception e) when (StoreErrors.IsRefusal(e))
                {
                    if (part.Count == 1)
                    {
                        whole!.Add(part[0].Id); // tried on its own already
                    }
                }
            }
            foreach (var player in alone)
            {
                if (whole?.Contains(player.Id) == true)
                {
                    continue;
                }
                try
                {
                    await SaveAsync(new ArraySegment<PlayerRecord>([player])).ConfigureAwait(false);
                    accepted.Add(player);
                }
                catch (Exception e) when (StoreErrors.IsRefusal(e))
                {
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposing while paced: give the rest back; the loop's last flush writes it unpaced.
            Restage(fresh.Wrote ? players : null, Unwritten(players, done, fresh, refusedChunks), taken);
            return false;
        }
        catch (Exception e)
        {
            // The database's failures, and anything else (a bug in a store, say): either way the batch goes back
            // and is retried, and the loop goes on. Before, an unexpected exception ended the loop for good, with
            // that batch gone and every later flush never written.
            Restage(fresh.Wrote ? players : null, Unwritten(players, done, fresh, refusedChunks), taken); // first: nothing below may lose the batch
            Interlocked.Increment(ref _failures);
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
        var wrote = fresh.Wrote || accepted.Count > 0 || probed; // the database takes rows: an outage is over
        if (kept.Length > 0)
        {
            _keptDue = Environment.TickCount64 + (long)_interval.TotalMilliseconds; // the full try was made
        }
        Refuse(fresh.Refused);
        PlayerRecord[] lastWritten;
        lock (_gate)
        {
            _inFlight = [];
            foreach (var player in accepted)
            {
                // Only this loop changes the map, and this state was taken from it: still the one kept.
                _refused.Remove(player.Id);
            }
            foreach (var player in alone)
            {
                // Refused again (one that went in is no longer in the map): tried now.
                if (_refused.TryGetValue(player.Id, out var still))
                {
                    _refused[player.Id] = still with { Changed = false, TriedAt = _flushes };
                }
            }
            if (players.Length > 0 || accepted.Count > 0)
            {
                _lastWritten = accepted.Count == 0 ? players : [.. players, .. accepted];
                _batchesEnded++;
            }
            lastWritten = _lastWritten;
        }
        foreach (var player in accepted.Take(RefusalsLogged))
        {
            Log(log => log.LogWarning("Player {Player}'s state (version {Version}) was refused by the database before and is written now", player.Id, player.Version));
        }
        if (accepted.Count > RefusalsLogged)
        {
            Log(log => log.LogWarning("{Count} more players' states refused by the database before are written now", accepted.Count - RefusalsLogged));
        }
        if (wrote && _outageSince is { } since)
        {
            _outageSince = null;
            _outageReason = null;
            Log(log => log.LogWarning("Database back after {Seconds:0.0} s: player progress written again", (DateTimeOffset.UtcNow - since).TotalSeconds));
        }
        // Out of writes for finding the refused: what is left goes with the next flush, at once (no backoff: the database
        // takes rows), and this flush's waiters wait for it.
        if (fresh.Left.Count > 0)
        {
            Restage(lastWritten, fresh.Left, taken);
            AskForFlush();
            return true;
        }
        taken.TrySetResult();
        return true;
    }

    /// <summary>
    /// The kept (refused) states a flush tries again. Once an interval (<paramref name="due"/>): all of them together, a
    /// chunk at a time, and up to <see cref="MaxIsolationWrites"/> each on its own, half of them with a newer state
    /// since their last try and the rest the ones tried longest ago, so each of N kept states is tried on its own within
    /// about N / 32 intervals; at the last flush up to <see cref="MaxKeptTriedAtStop"/>. In between (a flush asked for:
    /// a leave, a jump) only up to <see cref="KeptChangedPerFlush"/> with a newer state, so that such a flush stays a few
    /// writes. Under <see cref="_gate"/>.
    /// </summary>
    private (PlayerRecord[] All, PlayerRecord[] Alone) KeptToTry(bool due, bool last)
    {
        if (_refused.Count == 0)
        {
            return ([], []);
        }
        var byAge = _refused.Values.OrderBy(static k => k.TriedAt);
        if (!due && !last)
        {
            return ([], [.. byAge.Where(static k => k.Changed).Take(KeptChangedPerFlush).Select(static k => k.State)]);
        }
        var all = new PlayerRecord[_refused.Count];
        var i = 0;
        foreach (var refused in _refused.Values)
        {
            all[i++] = refused.State;
        }
        var budget = last ? MaxKeptTriedAtStop : MaxIsolationWrites;
        var changed = byAge.Where(static k => k.Changed).Take(budget / 2).Select(static k => k.State).ToList();
        var picked = new HashSet<Guid>(changed.Select(static p => p.Id));
        changed.AddRange(byAge.Where(k => !picked.Contains(k.State.Id)).Take(budget - changed.Count).Select(static k => k.State));
        return (all, [.. changed]);
    }

    /// <summary>
    /// What a flush did not write: its players from <paramref name="done"/> on, those of refused chunks not yet taken
    /// apart, and those found refused or left in the chunks taken apart.
    /// </summary>
    private static List<PlayerRecord> Unwritten(PlayerRecord[] players, int done, Isolation fresh, List<(ArraySegment<PlayerRecord> Chunk, Exception Refusal)> refusedChunks)
    {
        var unwritten = new List<PlayerRecord>(players.Length - done + fresh.Refused.Count + fresh.Left.Count);
        unwritten.AddRange(new ArraySegment<PlayerRecord>(players, done, players.Length - done));
        foreach (var (chunk, _) in refusedChunks)
        {
            if (chunk.Array is not null)
            {
                unwritten.AddRange(chunk);
            }
        }
        unwritten.AddRange(fresh.Refused.Select(static r => r.Player));
        unwritten.AddRange(fresh.Left);
        return unwritten;
    }

    /// <summary>One write (one transaction), counted when it goes in; its first state becomes the probe (see <see cref="TakesRowsAsync"/>).</summary>
    private async Task SaveAsync(ArraySegment<PlayerRecord> players)
    {
        await _store.SavePlayersAsync(players, CancellationToken.None).ConfigureAwait(false);
        Volatile.Write(ref _probe, players[0]);
        Interlocked.Add(ref _written, players.Count);
        Interlocked.Increment(ref _chunks);
    }

    /// <summary>
    /// Whether the database takes rows, asked when it refused every write of a flush: a state it holds (the first of
    /// the last write that went in, or a row loaded at a join) is written in full as if newer than anything stored, its
    /// row and at least one row in each child table, and rolled back (<see cref="IPlayerStore.ProbePlayerWriteAsync"/>):
    /// it changes nothing, and touches every table a real write touches. False when that is refused too, or when there
    /// is no such state yet: then the refusals are taken for the database's fault. Other errors are thrown (an outage).
    /// </summary>
    private async Task<bool> TakesRowsAsync()
    {
        if (Volatile.Read(ref _probe) is not { } probe)
        {
            return false;
        }
        try
        {
            await _store.ProbePlayerWriteAsync(probe, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (StoreErrors.IsRefusal(e))
        {
            return false;
        }
    }

    /// <summary>
    /// Finds the players of a refused <paramref name="chunk"/> whose states the database refuses: writes its halves, and
    /// the halves of a refused half, down to single players, so every part that is not refused goes in and the result
    /// does not depend on where in the chunk a refused player sits. Depth first, in a shuffled copy of the chunk: single
    /// players are reached within a few writes and then about one every two writes, and a run of refused players in
    /// the chunk does not hide, flush after flush, that the database takes the rest (which decides whether a refusal is
    /// the rows' fault). At most <see cref="MaxIsolationWrites"/> writes; parts not tried by then are left for the next
    /// flush. An error that is not a refusal is thrown (an outage).
    /// </summary>
    private async Task IsolateAsync(ArraySegment<PlayerRecord> chunk, Exception refusal, Isolation result)
    {
        var shuffled = chunk.ToArray(); // a copy: the flush's array is published (Newest reads it without the lock)
        Random.Shared.Shuffle(shuffled);
        var parts = new Stack<ArraySegment<PlayerRecord>>();
        Split(shuffled, refusal);
        for (var writes = 0; parts.TryPop(out var part); writes++)
        {
            if (writes >= MaxIsolationWrites)
            {
                result.Left.AddRange(part);
                continue;
            }
            try
            {
                await SaveAsync(part).ConfigureAwait(false);
                result.Went();
            }
            catch (Exception e) when (StoreErrors.IsRefusal(e))
            {
                Split(part, e);
            }
        }

        void Split(ArraySegment<PlayerRecord> part, Exception reason)
        {
            if (part.Count == 1)
            {
                result.Refused.Add((part[0], reason));
                return;
            }
            var half = part.Count / 2;
            parts.Push(part[half..]); // the first half is written first
            parts.Push(part[..half]);
        }
    }

    /// <summary>A refused player's newest state, whether it changed since it was last tried on its own, and when that was (a flush count).</summary>
    private readonly record struct Kept(PlayerRecord State, bool Changed, long TriedAt);

    /// <summary>What a flush's writes of its own players came to (see <see cref="IsolateAsync"/>).</summary>
    private sealed class Isolation
    {
        /// <summary>Some write went in.</summary>
        public bool Wrote { get; private set; }

        /// <summary>Single players the database refused, each with its refusal.</summary>
        public List<(PlayerRecord Player, Exception Reason)> Refused { get; } = [];

        /// <summary>Players of refused parts not tried again in this flush (it ran out of writes).</summary>
        public List<PlayerRecord> Left { get; } = [];

        public void Went() => Wrote = true;
    }

    /// <summary>Keeps <paramref name="players"/> apart as refused (newest state per player) and logs them, each with its refusal.</summary>
    private void Refuse(List<(PlayerRecord Player, Exception Reason)> players)
    {
        if (players.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            foreach (var (player, _) in players)
            {
                if (!_refused.TryGetValue(player.Id, out var kept) || kept.State.Version < player.Version)
                {
                    _refused[player.Id] = new Kept(player, Changed: false, TriedAt: _flushes);
                }
            }
        }
        foreach (var (player, reason) in players.Take(RefusalsLogged))
        {
            Log(log => log.LogError(
                "Player {Player}'s state (version {Version}) is refused by the database ({Reason}): it is kept here and tried again; the other players' progress is written",
                player.Id, player.Version, reason.Message.ReplaceLineEndings(" ")));
        }
        if (players.Count > RefusalsLogged)
        {
            Log(log => log.LogError("{Count} more players' states are refused by the database and kept here", players.Count - RefusalsLogged));
        }
    }

    /// <summary>At dispose: the refused states that never went in are named (they are lost with the process); returns how
    /// many.</summary>
    private int ReportRefusedAtStop()
    {
        Guid[] ids;
        lock (_gate)
        {
            ids = [.. _refused.Keys];
        }
        if (ids.Length > 0)
        {
            Log(log => log.LogError(
                "Shutting down with {Count} player states the database refused, not saved: {Players}",
                ids.Length, string.Join(", ", ids.Take(20)) + (ids.Length > 20 ? $" and {ids.Length - 20} more" : "")));
        }
        return ids.Length;
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
    /// Puts what a flush did not write (<paramref name="unwritten"/>) back under anything staged meanwhile (newer versions
    /// win); its waiters (<paramref name="taken"/>) wait for the next successful flush: they become the next flush's
    /// waiters when nobody asked during this one, else they follow those (one continuation per such failed flush, and
    /// failed flushes are paced by the backoff).
    /// </summary>
    /// <param name="lastWritten">
    /// What Newest looks at as written: the flush's players (some may be written), and the kept states that went in. Null
    /// when none of the flush's writes went in: every player of it is staged again (a write that failed may still have
    /// committed, but its players are among the staged ones then), so the last batch written stays the one before.
    /// </param>
    private void Restage(PlayerRecord[]? lastWritten, List<PlayerRecord> unwritten, TaskCompletionSource taken)
    {
        lock (_gate)
        {
            _inFlight = [];
            // The same batch again when a flush leaves part for the next.
            if (lastWritten is not null && !ReferenceEquals(_lastWritten, lastWritten))
            {
                _lastWritten = lastWritten;
                _batchesEnded++;
            }
            foreach (var player in unwritten)
            {
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
