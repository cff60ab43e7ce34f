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
/// is bounded by the number of players), the loop retries with exponential backoff up to the interval, and one warning
/// is logged per outage plus one line when it ends. Nothing is lost that was staged before a flush succeeded; a crash
/// loses at most what was staged since the last successful flush (one interval).
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
    private Dictionary<Guid, PlayerRecord> _staged = [];
    private Dictionary<Guid, PlayerRecord> _spare = [];
    // Completed when the next flush to start has succeeded; a failed flush's signal is carried to the next attempt.
    private TaskCompletionSource _nextFlush = NewSignal();
    private List<TaskCompletionSource> _carried = [];
    private DateTimeOffset? _outageSince;
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

    /// <summary>Queues <paramref name="player"/> for the next flush; an older staged state of the same player is replaced.</summary>
    public void Stage(PlayerRecord player)
    {
        ArgumentNullException.ThrowIfNull(player);
        lock (_gate)
        {
            if (!_staged.TryGetValue(player.Id, out var existing) || existing.Version <= player.Version)
            {
                _staged[player.Id] = player;
            }
        }
    }

    /// <summary>Asks for a flush now and waits for the next successful one (or cancellation).</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Task done;
        lock (_gate)
        {
            done = _nextFlush.Task;
        }
        _wake.Release();
        return done.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _wake.Release();
        await _loop.ConfigureAwait(false);
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
                await _wake.WaitAsync(backoff > TimeSpan.Zero ? backoff : _interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                stopping = true;
            }
            var ok = await FlushOnceAsync(paced: !stopping).ConfigureAwait(false);
            backoff = ok ? TimeSpan.Zero : NextBackoff(backoff);
            if (stopping)
            {
                // On dispose: one last attempt was made above; what could not be written is reported, not retried forever.
                if (!ok)
                {
                    _log.LogError("Shutting down with {Count} player states unwritten: the database is unreachable", Pending);
                }
                return;
            }
        }
    }

    private async Task<bool> FlushOnceAsync(bool paced)
    {
        Dictionary<Guid, PlayerRecord> batch;
        TaskCompletionSource signal;
        List<TaskCompletionSource> carried;
        lock (_gate)
        {
            batch = _staged;
            _staged = _spare;
            _spare = batch;
            signal = _nextFlush;
            _nextFlush = NewSignal();
            carried = _carried;
            _carried = [];
        }
        if (batch.Count > 0)
        {
            PlayerRecord[] players = [.. batch.Values];
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
                Restage(players, done, carried, signal);
                return false;
            }
            catch (Exception e) when (e is StoreUnavailableException or System.Data.Common.DbException or TimeoutException or IOException)
            {
                Interlocked.Increment(ref _failures);
                if (_outageSince is null)
                {
                    _outageSince = DateTimeOffset.UtcNow;
                    _log.LogWarning("Cannot write player progress ({Reason}); the game goes on and writes are retried", e.Message.ReplaceLineEndings(" "));
                }
                Restage(players, done, carried, signal);
                return false;
            }
            if (_outageSince is { } since)
            {
                _log.LogWarning("Database back after {Seconds:0.0} s: player progress written again", (DateTimeOffset.UtcNow - since).TotalSeconds);
                _outageSince = null;
            }
        }
        signal.TrySetResult();
        foreach (var waiting in carried)
        {
            waiting.TrySetResult();
        }
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
    /// versions win); its waiters wait for the next successful flush.
    /// </summary>
    private void Restage(PlayerRecord[] players, int from, List<TaskCompletionSource> carried, TaskCompletionSource signal)
    {
        lock (_gate)
        {
            for (var i = from; i < players.Length; i++)
            {
                var player = players[i];
                if (!_staged.TryGetValue(player.Id, out var newer) || newer.Version < player.Version)
                {
                    _staged[player.Id] = player;
                }
            }
            _carried.AddRange(carried);
            _carried.Add(signal);
        }
    }

    private TimeSpan NextBackoff(TimeSpan current)
    {
        var next = current == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : current * 2;
        return next > _interval ? _interval : next;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
