using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Persistence.Model;

namespace Sol.Server.Progress;

/// <summary>
/// Write-behind of player progress. Game threads <see cref="Stage"/> a player's latest state (a short lock, no I/O);
/// a background loop coalesces (the latest version per player wins) and writes everything staged as one batched
/// upsert every interval, and at once when <see cref="FlushAsync"/> is called (zone transfer, disconnect, shutdown).
/// </summary>
/// <remarks>
/// When the database is down, the batch stays staged (newer states of the same players replace older ones, so memory
/// is bounded by the number of players), the loop retries with exponential backoff up to the interval, and one warning
/// is logged per outage plus one line when it ends. Nothing is lost that was staged before a flush succeeded; a crash
/// loses at most what was staged since the last successful flush (one interval).
/// </remarks>
public sealed class PlayerWriteBehind : IAsyncDisposable
{
    private readonly IPlayerStore _store;
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
    private long _failures;

    public PlayerWriteBehind(IPlayerStore store, TimeSpan interval, ILogger log)
    {
        _store = store;
        _interval = interval;
        _log = log;
        _loop = Task.Run(RunAsync);
    }

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
            var ok = await FlushOnceAsync().ConfigureAwait(false);
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

    private async Task<bool> FlushOnceAsync()
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
            try
            {
                await _store.SavePlayersAsync([.. batch.Values], CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreUnavailableException or System.Data.Common.DbException or TimeoutException or IOException)
            {
                Interlocked.Increment(ref _failures);
                if (_outageSince is null)
                {
                    _outageSince = DateTimeOffset.UtcNow;
                    _log.LogWarning("Cannot write player progress ({Reason}); the game goes on and writes are retried", e.Message.ReplaceLineEndings(" "));
                }
                lock (_gate)
                {
                    // Put the batch back under anything staged meanwhile (newer versions win); its waiters wait on.
                    foreach (var (id, player) in batch)
                    {
                        if (!_staged.TryGetValue(id, out var newer) || newer.Version < player.Version)
                        {
                            _staged[id] = player;
                        }
                    }
                    batch.Clear();
                    _carried.AddRange(carried);
                    _carried.Add(signal);
                }
                return false;
            }
            Interlocked.Add(ref _written, batch.Count);
            batch.Clear();
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

    private TimeSpan NextBackoff(TimeSpan current)
    {
        var next = current == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : current * 2;
        return next > _interval ? _interval : next;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
