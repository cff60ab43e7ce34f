using System.Collections.Concurrent;

namespace Sol.Transport.Connections;

/// <summary>
/// Runs connection writers in batches: a connection with something to send is put in one queue, and a few drainers
/// (thread-pool work items, at most one per core) write one connection after another. A broadcast to 2,000 clients
/// is then a handful of work items instead of 2,000 — each of which would go through the thread pool's queue and could
/// wake a sleeping worker.
/// </summary>
/// <remarks>
/// A writer never blocks (a flush that would wait continues through its own callback, outside this queue), so one
/// connection cannot hold a drainer. A drainer gives its thread back after <see cref="Budget"/> writers and queues
/// itself again, so the receive loops and the game's other work get the thread pool between batches even when
/// sends never stop.
/// </remarks>
internal sealed class SendScheduler : IThreadPoolWorkItem
{
    /// <summary>Writers a drainer runs before it goes to the back of the thread pool's queue.</summary>
    internal const int Budget = 512;

    private readonly ConcurrentQueue<IScheduledWriter> _ready = new();
    private readonly int _maxDrainers;
    private readonly Action<IThreadPoolWorkItem> _queueWorkItem;
    private int _drainers;

    /// <param name="maxDrainers">Drainers running at once.</param>
    /// <param name="queueWorkItem">Where a drainer goes to run (the thread pool; tests run them by hand).</param>
    public SendScheduler(int maxDrainers, Action<IThreadPoolWorkItem>? queueWorkItem = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDrainers, 1);
        _maxDrainers = maxDrainers;
        _queueWorkItem = queueWorkItem ?? (static item => ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false));
    }

    /// <summary>One drainer per core, shared by every server in the process.</summary>
    public static SendScheduler Shared { get; } = new(Environment.ProcessorCount);

    /// <summary>Drainers running or queued now (tests).</summary>
    internal int Drainers => Volatile.Read(ref _drainers);

    /// <summary>Queues a writer that must run; the caller guarantees a writer is queued at most once at a time.</summary>
    public void Schedule(IScheduledWriter writer)
    {
        _ready.Enqueue(writer);
        // Enqueue is a full fence; so is the drainer's decrement before it looks at the queue once more, so either it
        // sees this writer or this sees its slot free.
        if (TryTakeSlot())
        {
            _queueWorkItem(this);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            for (var i = 0; i < Budget; i++)
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
                _queueWorkItem(this);
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
