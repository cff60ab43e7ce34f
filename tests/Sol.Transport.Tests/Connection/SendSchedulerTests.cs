using Sol.Testing;
using Sol.Transport.Connections;

namespace Sol.Transport.Tests.Connection;

/// <summary>
/// The batched writer scheduler: drainers are run by hand (the scheduler's work items are captured instead of going to
/// the thread pool), so what runs when is exact; one test runs it on the real thread pool from several threads.
/// </summary>
public sealed class SendSchedulerTests
{
    [Fact]
    public void ADrainerThatUsedUpItsBudgetGoesBackThroughItsOwnQueueAgainHook()
    {
        var queued = new Queue<IThreadPoolWorkItem>();
        var again = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(maxDrainers: 1, queued.Enqueue, budget: 2, queueAgain: again.Enqueue);
        var ran = 0;
        for (var i = 0; i < 3; i++)
        {
            scheduler.Schedule(new Writer(() => ran++));
        }

        queued.Dequeue().Execute();

        Assert.Equal(2, ran);
        Assert.Empty(queued); // a new burst's drainer goes to queueWorkItem; one that runs on goes to queueAgain
        Assert.Single(again);
        again.Dequeue().Execute();
        Assert.Equal(3, ran);
        Assert.Empty(again);
        Assert.Equal(0, scheduler.Drainers);
    }

    [Fact]
    public void OneDrainerRunsEveryQueuedWriterInOrderThenGivesItsSlotBack()
    {
        var queued = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(maxDrainers: 1, queued.Enqueue);
        var ran = new List<int>();
        var writers = Enumerable.Range(0, 3).Select(i => new Writer(() => ran.Add(i))).ToArray();

        foreach (var writer in writers)
        {
            scheduler.Schedule(writer);
        }

        Assert.Single(queued); // three writers, one work item
        Assert.Equal(1, scheduler.Drainers);
        queued.Dequeue().Execute();
        Assert.Equal([0, 1, 2], ran);
        Assert.Equal(0, scheduler.Drainers);
        Assert.Empty(queued);

        scheduler.Schedule(writers[0]);
        Assert.Single(queued); // a new burst starts a new drainer
    }

    [Theory]
    [InlineData(SendScheduler.Budget)]     // the thread pool's
    [InlineData(SendScheduler.LoopBudget)] // an I/O loop's: it reads its sockets between batches
    public void ADrainerGoesBackToItsQueueAfterItsBudget(int budget)
    {
        var queued = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(maxDrainers: 1, queued.Enqueue, budget: budget);
        var ran = 0;
        for (var i = 0; i < budget + 5; i++)
        {
            scheduler.Schedule(new Writer(() => ran++));
        }

        queued.Dequeue().Execute();

        Assert.Equal(budget, ran);
        Assert.Single(queued); // the same drainer, queued again with its slot
        Assert.Equal(1, scheduler.Drainers);
        queued.Dequeue().Execute();
        Assert.Equal(budget + 5, ran);
        Assert.Empty(queued);
        Assert.Equal(0, scheduler.Drainers);
    }

    [Fact]
    public void ASmallBurstStartsOneDrainerEvenWithSlotsFreeAndAWriterQueuedWhileItRunsIsPickedUp()
    {
        var queued = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(maxDrainers: 2, queued.Enqueue);
        var ran = new List<string>();
        var late = new Writer(() => ran.Add("late"));
        // A writer that schedules another one while the drainer is running it (a send from inside a write).
        var first = new Writer(() =>
        {
            ran.Add("first");
            scheduler.Schedule(late);
        });

        scheduler.Schedule(first);
        scheduler.Schedule(new Writer(() => ran.Add("second")));
        scheduler.Schedule(new Writer(() => ran.Add("third")));

        Assert.Single(queued); // no helper for three writers: one thread is woken, not one per core
        queued.Dequeue().Execute();
        Assert.Equal(["first", "second", "third", "late"], ran);
        Assert.Equal(0, scheduler.Drainers);
        Assert.Empty(queued);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 1)]
    public void AHelpBacklogOfItsOwnDecidesWhenAHelperComes(int writers, int helpers)
    {
        // The I/O loops' scheduler waits for a far longer backlog (LoopHelpBacklog) than the thread pool's.
        var queued = new Queue<IThreadPoolWorkItem>();
        var helped = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(2, queued.Enqueue, helped.Enqueue, helpBacklog: 3);
        for (var i = 0; i < writers; i++)
        {
            scheduler.Schedule(new Writer(() => { }));
        }
        queued.Dequeue().Execute();
        Assert.Equal(helpers, helped.Count);
        Assert.True(SendScheduler.LoopHelpBacklog > SendScheduler.HelpBacklog);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1, 0)]
    public void ABacklogOverTheLimitCallsInOneHelperElsewhereWhenASlotIsFree(int maxDrainers, int helpers)
    {
        var queued = new Queue<IThreadPoolWorkItem>();
        var helped = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(maxDrainers, queued.Enqueue, helped.Enqueue);
        var ran = 0;
        for (var i = 0; i < SendScheduler.HelpBacklog + 1; i++)
        {
            scheduler.Schedule(new Writer(() => ran++));
        }
        Assert.Single(queued);
        Assert.Empty(helped);

        queued.Dequeue().Execute(); // sees the backlog before it starts writing

        Assert.Equal(helpers, helped.Count);
        Assert.Equal(SendScheduler.HelpBacklog + 1, ran);
        Assert.Equal(helpers, scheduler.Drainers); // the helper holds its slot until it ran
        while (helped.TryDequeue(out var helper))
        {
            helper.Execute(); // finds nothing left and gives its slot back
        }
        Assert.Equal(0, scheduler.Drainers);
        Assert.Empty(queued);
    }

    [Fact]
    public void AWriterThatThrowsDoesNotStopTheDrainer()
    {
        var queued = new Queue<IThreadPoolWorkItem>();
        var scheduler = new SendScheduler(maxDrainers: 1, queued.Enqueue);
        var ran = false;
        scheduler.Schedule(new Writer(() => throw new InvalidOperationException("writer bug")));
        scheduler.Schedule(new Writer(() => ran = true));

        queued.Dequeue().Execute();

        Assert.True(ran);
        Assert.Equal(0, scheduler.Drainers);
    }

    [Fact]
    public async Task OnTheThreadPoolEveryScheduledWriterRunsOncePerScheduleFromManyThreads()
    {
        var scheduler = new SendScheduler(maxDrainers: 2);
        const int Writers = 200;
        const int RoundsPerThread = 2_000;
        var writers = Enumerable.Range(0, Writers).Select(_ => new GuardedWriter(scheduler)).ToArray();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            for (var i = 0; i < RoundsPerThread; i++)
            {
                writers[random.Next(Writers)].Request();
            }
        })).ToArray();

        foreach (var thread in threads)
        {
            thread.Start();
        }
        foreach (var thread in threads)
        {
            thread.Join();
        }

        // Every request is served: a writer runs until nothing it was asked for is left.
        await Eventually.TrueAsync(() => writers.All(w => w.Served == w.Requested), TimeSpan.FromSeconds(10), "every request served");
        await Eventually.TrueAsync(() => scheduler.Drainers == 0, TimeSpan.FromSeconds(10), "drainers gone");
        Assert.Equal(4 * RoundsPerThread, writers.Sum(w => w.Requested));
        Assert.All(writers, w => Assert.Equal(0, w.Overlaps));
    }

    private sealed class Writer(Action run) : IScheduledWriter
    {
        public void RunWriter() => run();
    }

    /// <summary>Queued at most once at a time, as a connection is: requests made while it runs are served by a rerun.</summary>
    private sealed class GuardedWriter(SendScheduler scheduler) : IScheduledWriter
    {
        private int _requested;
        private int _served;
        private int _scheduled;
        private int _running;

        public int Requested => Volatile.Read(ref _requested);

        public int Served => Volatile.Read(ref _served);

        public int Overlaps;

        public void Request()
        {
            Interlocked.Increment(ref _requested);
            if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            {
                scheduler.Schedule(this);
            }
        }

        public void RunWriter()
        {
            if (Interlocked.Exchange(ref _running, 1) == 1)
            {
                Interlocked.Increment(ref Overlaps);
            }
            Volatile.Write(ref _served, Volatile.Read(ref _requested));
            Volatile.Write(ref _running, 0);
            Interlocked.Exchange(ref _scheduled, 0);
            // A request between the copy and the reset saw "scheduled" and left it to this run: queue once more.
            if (Volatile.Read(ref _served) != Volatile.Read(ref _requested) && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            {
                scheduler.Schedule(this);
            }
        }
    }
}
