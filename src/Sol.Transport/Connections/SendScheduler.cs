using System.Collections.Concurrent;

namespace Sol.Transport.Connections;

/// <summary>
/// Runs connection writers in batches: a connection with something to send is put in one queue, and drainers write one
/// connection after another. A broadcast to 2,000 clients is then a handful of work items instead of 2,000 — each of
/// which would go through a queue and could wake a sleeping thread.
/// </summary>
/// <remarks>
/// <para>One drainer runs while there is anything to write; it calls in a helper (up to one drainer per core or I/O
/// loop) only when more than <see cref="HelpBacklog"/> writers are waiting (<see cref="LoopHelpBacklog"/> on the I/O
/// loops), so a small broadcast at a tick rate wakes
/// one thread, not one per core, while a large one is written by several cores at once.</para>
/// <para>A writer never blocks (a flush that would wait continues through its own callback, outside this queue), so
/// one connection cannot hold a drainer. A drainer gives its thread back after a budget of writers (<see cref="Budget"/>,
/// <see cref="LoopBudget"/> on the I/O loops) and queues
/// itself again, so the receive loops and the game's other work get the thread between batches even when sends never
/// stop.</para>
/// </remarks>
internal sealed class SendScheduler : IThreadPoolWorkItem
{
    /// <summary>Writers a drainer runs before it goes to the back of its queue (thread pool).</summary>
    internal const int Budget = 512;

    /// <summary>
    /// The same on an I/O loop: small, so the loop reads its sockets between batches. Flat out, a publisher's next
    /// messages then reach the connections' queues while a broadcast is still being written, and coalesce into the same
    /// sends; with 512, 256 clients × 200 B flat out cost 1.09–1.22 µs per message against 0.76–0.94 with 16
    /// (bench/results/transport-e2e.md).
    /// </summary>
    internal const int LoopBudget = 16;

    /// <summary>Writers waiting beyond which a running drainer calls in another one.</summary>
    internal const int HelpBacklog = 64;

    /// <summary>
    /// The same on the I/O loops, whose sends go out in io_uring batches: one loop writes about a thousand connections'
    /// sends in 5 ms, and a helper on another loop cost more than it saved. Without helpers up to this many,
    /// 2,000 clients × 200 B cost 14–18 % less CPU per message and 256 clients @ 20 Hz 25 % less (three alternations,
    /// bench/results/transport-fanout-profile.md); past it (tens of thousands of clients) a tick's sends are still spread
    /// over the cores.
    /// </summary>
    internal const int LoopHelpBacklog = 4096;

    private static readonly Lazy<SendScheduler> s_ioLoops = new(() => new(Sockets.IoLoop.Count, Sockets.IoLoop.PostHereOrAnywhere, Sockets.IoLoop.PostElsewhere, LoopBudget, resumesWaitedWriters: true, LoopHelpBacklog, Sockets.IoLoop.PostDrainerAgain));

    private readonly ConcurrentQueue<IScheduledWriter> _ready = new();
    private readonly int _maxDrainers;
    private readonly int _budget;
    private readonly int _helpBacklog;
    private readonly Action<IThreadPoolWorkItem> _queueWorkItem;
    private readonly Action<IThreadPoolWorkItem> _queueHelper;
    private readonly Action<IThreadPoolWorkItem> _queueAgain;
    private int _drainers;

    /// <param name="maxDrainers">Drainers running at once.</param>
    /// <param name="queueWorkItem">Where a drainer goes to run (the thread pool; tests run them by hand).</param>
    /// <param name="queueHelper">Where a helper goes to run (another thread than the caller's); <paramref name="queueWorkItem"/> by default.</param>
    /// <param name="budget">Writers a drainer runs before it queues itself again.</param>
    /// <param name="resumesWaitedWriters">See <see cref="ResumesWaitedWriters"/>.</param>
    /// <param name="helpBacklog">Writers waiting beyond which a running drainer calls in another one.</param>
    /// <param name="queueAgain">Where a drainer that used up its budget goes to run on (an I/O loop: the same loop, noting that its sends have company coming); <paramref name="queueWorkItem"/> by default.</param>
    public SendScheduler(int maxDrainers, Action<IThreadPoolWorkItem>? queueWorkItem = null, Action<IThreadPoolWorkItem>? queueHelper = null,
        int budget = Budget, bool resumesWaitedWriters = false, int helpBacklog = HelpBacklog, Action<IThreadPoolWorkItem>? queueAgain = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDrainers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(helpBacklog, 0);
        _helpBacklog = helpBacklog;
        _maxDrainers = maxDrainers;
        _budget = budget;
        ResumesWaitedWriters = resumesWaitedWriters;
        _queueWorkItem = queueWorkItem ?? (static item => ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false));
        _queueHelper = queueHelper ?? _queueWorkItem;
        _queueAgain = queueAgain ?? _queueWorkItem;
    }

    /// <summary>Drainers on the thread pool, one per core, shared by every server in the process.</summary>
    public static SendScheduler Shared { get; } = new(Environment.ProcessorCount);

    /// <summary>
    /// Drainers on the I/O loops, one per loop (the raw kind on Linux): a broadcast from a message just read runs on
    /// the same thread after it without a wake-up; from elsewhere (a game tick) it wakes one loop.
    /// </summary>
    public static SendScheduler IoLoops => s_ioLoops.Value;

    /// <summary>
    /// A writer whose flush had to wait comes back through this scheduler, not on where the flush completed: on an I/O
    /// loop that is inside another socket's event, and a writer with a long queue must not hold the loop outside the
    /// drainers' budget. (Elsewhere it writes on at once, on the socket library's thread.)
    /// </summary>
    public bool ResumesWaitedWriters { get; }

    /// <summary>Drainers running or queued now (tests).</summary>
    internal int Drainers => Volatile.Read(ref _drainers);

    /// <summary>Queues a writer that must run; the caller guarantees a writer is queued at most once at a time.</summary>
    public void Schedule(IScheduledWriter writer)
    {
        _ready.Enqueue(writer);
        // Enqueue reserves the writer's slot with an interlocked exchange (a full fence) before it publishes it, and a
        // reader that meets a reserved slot waits for it; a drainer's decrement is a full fence before it looks at the
        // queue once more. So either a running drainer sees this writer or this sees none running and starts one.
        if (Volatile.Read(ref _drainers) == 0 && TryTakeSlot())
        {
            _queueWorkItem(this);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            if (_ready.Count > _helpBacklog && TryTakeSlot())
            {
                _queueHelper(this);
            }
            for (var i = 0; i < _budget; i++)
            {
                if (!_ready.TryDequeue(out var writer))
                {
                    break;
                }
                try
                {
                    writer.RunWriter();
                }
                catch (Exception)
                {
                    // A writer handles its own failures (WebSocketConnection.Pump logs them and ends that connection's
                    // writer), so this is only reached if its logger throws; that must not take this drainer's slot
                    // with it, or every send in the process would stop.
                }
            }
            if (!_ready.IsEmpty)
            {
                // Still busy: keep this drainer's slot and let queued work run first.
                _queueAgain(this);
                return;
            }
            Interlocked.Decrement(ref _drainers);
            if (_ready.IsEmpty)
            {
                return;
            }
            // Something arrived between the last look and the decrement: go on if a slot is still free (if not,
            // the drainer holding it will see the writer).
            if (!TryTakeSlot())
            {
                return;
            }
        }
    }

    private bool TryTakeSlot()
    {
        int drainers;
        while ((drainers = Volatile.Read(ref _drainers)) < _maxDrainers)
        {
            if (Interlocked.CompareExchange(ref _drainers, drainers + 1, drainers) == drainers)
            {
                return true;
            }
        }
        return false;
    }
}
