using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Sol.Transport.Sockets;

/// <summary>A socket watched by an <see cref="IoLoop"/>: told on the loop's thread when it is readable, writable again, or hung up.</summary>
internal interface IIoLoopSocket
{
    void OnReady(uint events);
}

/// <summary>
/// One I/O thread of the raw socket kind (Linux): an epoll instance watching its sockets for input, edge-triggered, and
/// a queue of work posted to it. The thread reads a readable socket itself and runs what comes after inline — the
/// connection's read loop and, when that broadcasts, the send scheduler's drainer — so a message in and the sends it
/// causes cost one wake-up of one thread. Where the kernel allows it the loop has an <see cref="IoRing"/>: the flushes
/// made during a phase of its turn (the sockets' events, the posted items) go to the kernel together at the phase's end,
/// in one system call.
/// </summary>
/// <remarks>
/// <para>Why not the runtime's engine: it reads on its epoll thread and hands every completion to the thread pool,
/// whose workers spin before they sleep. At 20 Hz with few clients that hand-off and spin was most of the CPU per
/// message (bench/results/transport-e2e.md).</para>
/// <para>Whatever runs on a loop must not block: the loop serves every socket on it. The transport itself leaves the
/// loop before it calls the application's upgrade and open hooks (which may reach a database); messages reach
/// <see cref="IWebSocketHandler.OnMessage"/> on it.</para>
/// <para>The loops are per process, like the runtime's own engine, one per core, started on first use and never
/// stopped (background threads).</para>
/// </remarks>
internal sealed unsafe class IoLoop
{
    /// <summary>Loops at most (<c>--io-threads</c>).</summary>
    public const int MaxLoops = 1024;

    private const int EventCapacity = 256;

    /// <summary>Posted items run per turn before the loop looks at its sockets again.</summary>
    private const int PostedPerTurn = 64;

    /// <summary>Phase ends in a row at most (two a turn) that leave queued sends for the drainer's next turn to join (see <see cref="SubmitSendsUnlessMoreComes"/>).</summary>
    private const int MaxHeldPhaseEnds = 32;

    /// <summary>
    /// Turns a burst lasts at most (4,096 writers at 16 a turn): load that never lets the loop sleep again is no burst,
    /// and its sends go out at every phase end.
    /// </summary>
    private const int MaxBurstTurns = 256;

    private static readonly Lazy<IoLoop[]> s_loops = new(StartLoops);
    private static int s_next;
    private static int s_configured = -1; // not yet decided
    private static readonly LoopFaults s_faults = new();

    [ThreadStatic]
    private static IoLoop? t_current;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly ConcurrentQueue<IThreadPoolWorkItem> _posted = new();
    private int _wakePending; // 1 while the eventfd holds a wake-up the loop has not taken
    private IoRing? _ring;    // the loop's batched sends (null: io_uring refused; each flush sends at once)
    private bool _burst;      // the loop woke from sleep, has not run out of posted work since, for at most MaxBurstTurns
    private int _burstTurns;  // turns since the wake
    private bool _drainerContinues; // a send drainer queued itself again on this loop since the posted phase began
    private int _heldPhaseEnds; // phases in a row whose end did not submit the pending sends (see SubmitSendsUnlessMoreComes)

    private IoLoop(int index)
    {
        _epoll = Epoll.Create();
        _wake = Epoll.CreateEventFd();
        Epoll.Add(_epoll, _wake, Epoll.In, 0); // level-triggered: it stays ready until drained
        var thread = new Thread(Run) { IsBackground = true, Name = $"Sol I/O {index}" };
        using var started = new ManualResetEventSlim();
        thread.UnsafeStart(started);
        started.Wait(); // the ring is made on the loop's thread (its only submitter); known once this returns
    }

    /// <summary>
    /// Loops to start: what <see cref="Configure"/> said, else <c>SOL_IO_THREADS</c> when set, else one per core. 0 turns
    /// them off: the raw kind then reads through the runtime's engine and drains sends on the thread pool.
    /// </summary>
    public static int Configured
    {
        get
        {
            if (Volatile.Read(ref s_configured) < 0)
            {
                Interlocked.CompareExchange(ref s_configured, ReadConfigured(), -1);
            }
            return s_configured;
        }
    }

    /// <summary>The raw kind uses loops here (Linux on x64 or Arm64, and not turned off).</summary>
    public static bool IsSupported => Configured > 0 && Epoll.IsSupported;

    /// <summary>Sets the number of loops before the first one starts; once they run, only the same number is accepted.</summary>
    public static void Configure(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxLoops);
        if (s_loops.IsValueCreated)
        {
            var running = Configured;
            if (running != count)
            {
                throw new InvalidOperationException($"The I/O loops already run with {running} threads; {count} cannot be set now.");
            }
            return;
        }
        Volatile.Write(ref s_configured, count);
    }

    /// <summary>Loops in the process.</summary>
    public static int Count => s_loops.Value.Length;

    /// <summary>Exceptions that reached a loop from a socket or a posted item (a bug where they came from; tests assert 0).</summary>
    internal static long Swallowed => s_faults.Count;

    /// <summary>Where the loops count and log what they swallowed.</summary>
    internal static LoopFaults Faults => s_faults;

    /// <summary>Where the loops report an exception that reached them (the latest raw-kind server's logger; see <see cref="LoopFaults"/>).</summary>
    public static void UseLogger(ILogger logger) => s_faults.Logger = logger;

    /// <summary>A stopping server takes its logger back, unless a later server's has replaced it.</summary>
    public static void ForgetLogger(ILogger logger) => s_faults.ForgetLogger(logger);

    /// <summary>The loop whose thread this is, if any.</summary>
    public static IoLoop? Current => t_current;

    /// <summary>Loops that have an <see cref="IoRing"/> in use (starts the loops).</summary>
    public static int Rings => s_loops.Value.Count(loop => loop._ring is { Broken: false });

    /// <summary>Sends the loops' rings handed to the kernel so far (tests, diagnostics).</summary>
    public static long RingSends => s_loops.Value.Sum(loop => loop._ring?.Sent ?? 0);

    /// <summary>Batches of sends the loops' rings handed to the kernel so far (tests, diagnostics).</summary>
    public static long RingBatches => s_loops.Value.Sum(loop => loop._ring?.Batches ?? 0);

    /// <summary>The next loop, round robin (where a new connection goes).</summary>
    public static IoLoop Next()
    {
        var loops = s_loops.Value;
        return loops[(int)((uint)Interlocked.Increment(ref s_next) % (uint)loops.Length)];
    }

    /// <summary>Runs <paramref name="item"/> on this thread's loop if it is one (after what it is doing; no wake-up), else on the next loop.</summary>
    public static void PostHereOrAnywhere(IThreadPoolWorkItem item) => (t_current ?? Next()).Post(item);

    /// <summary>
    /// A send drainer that used up its budget runs on: on this thread's loop, which then knows that its sends so far have
    /// company coming (see <see cref="SubmitSendsUnlessMoreComes"/>); elsewhere as <see cref="PostHereOrAnywhere"/>.
    /// </summary>
    public static void PostDrainerAgain(IThreadPoolWorkItem item)
    {
        if (t_current is { } loop)
        {
            loop._drainerContinues = true;
        }
        PostHereOrAnywhere(item);
    }

    /// <summary>
    /// A writer on this thread found more than one message waiting for its connection: sends are piling up faster than
    /// one per burst, so this loop's burst ends and its sends go out at every phase end again (see
    /// <see cref="SubmitSendsUnlessMoreComes"/>). Does nothing off the loops.
    /// </summary>
    public static void NoteBacklog()
    {
        if (t_current is { } loop)
        {
            loop._burst = false;
        }
    }

    /// <summary>Runs <paramref name="item"/> on another loop than this thread's (a helper); with one loop, on it.</summary>
    public static void PostElsewhere(IThreadPoolWorkItem item)
    {
        var loop = Next();
        if (loop == t_current)
        {
            loop = Next();
        }
        loop.Post(item);
    }

    /// <summary>Runs <paramref name="item"/> on this loop's thread soon (from any thread).</summary>
    public void Post(IThreadPoolWorkItem item)
    {
        _posted.Enqueue(item);
        // Enqueue is a full fence; the loop clears the flag before it drains the queue, so either it sees this item or
        // this sees the flag clear and wakes it.
        if (t_current != this && Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Epoll.Signal(_wake);
        }
    }

    /// <summary>
    /// Watches <paramref name="socket"/> for input and for room to send, edge-triggered, until <see cref="Unwatch"/>.
    /// Each wake-up of the socket reports its whole state, so OUT comes with nearly every input event (and the first
    /// event after this); a wake-up for room alone comes only after a send found the kernel full.
    /// </summary>
    /// <param name="token">A <see cref="GCHandle"/> to the <see cref="IIoLoopSocket"/>; freed by the caller, on this loop, after <see cref="Unwatch"/>.</param>
    public void Watch(SafeSocketHandle socket, nint token)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            Epoll.Add(_epoll, (int)socket.DangerousGetHandle(), Epoll.In | Epoll.Out | Epoll.ReadHangUp | Epoll.EdgeTriggered, token);
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Stops watching <paramref name="socket"/> (call before closing it, so a reused descriptor is never taken for it).
    /// Events already taken by the loop may still be delivered, up to the end of its turn: free the token from an item
    /// posted to the loop after this.
    /// </summary>
    public void Unwatch(SafeSocketHandle socket)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            Epoll.Remove(_epoll, (int)socket.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // Already closed: closing removed it from the epoll set.
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    private static int ReadConfigured()
    {
        var text = Environment.GetEnvironmentVariable("SOL_IO_THREADS");
        if (string.IsNullOrWhiteSpace(text))
        {
            return Environment.ProcessorCount;
        }
        return int.TryParse(text, out var count) && count >= 0 && count <= MaxLoops
            ? count
            : throw new InvalidOperationException($"SOL_IO_THREADS must be a whole number from 0 to {MaxLoops} (0: no I/O loops), not '{text}'.");
    }

    private static IoLoop[] StartLoops()
    {
        var loops = new IoLoop[Math.Max(1, Configured)];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = new IoLoop(i);
        }
        return loops;
    }

    private void Run(object? started)
    {
        t_current = this;
        _ring = IoRing.TryCreate(faults: static e => s_faults.Report(e, "a send's completion"));
        IoRing.Current = _ring;
        ((ManualResetEventSlim)started!).Set();
        var events = (byte*)NativeMemory.Alloc((nuint)(EventCapacity * Epoll.EventSize));
        while (true)
        {
            // Throws only for a broken epoll instance or buffer (EBADF, EFAULT, EINVAL): a bug, and fatal on purpose.
            // No sleep while work waits: posted items, or sends that a batch's completions queued for the next batch.
            var idle = _posted.IsEmpty && (_ring is null || _ring.Pending == 0);
            var count = Epoll.Wait(_epoll, events, EventCapacity, idle ? -1 : 0);
            if (idle)
            {
                _burst = true;
                _burstTurns = 0;
            }
            else if (_burst && ++_burstTurns >= MaxBurstTurns)
            {
                _burst = false;
            }
            for (var i = 0; i < count; i++)
            {
                var data = Epoll.DataAt(events, i);
                if (data == 0)
                {
                    Epoll.Drain(_wake);
                    // A full fence, as Post's exchange is: the queue is read after this, so an item whose poster still
                    // saw the flag set is found below (a plain store could be passed by that read).
                    Interlocked.Exchange(ref _wakePending, 0);
                    continue;
                }
                try
                {
                    ((IIoLoopSocket)GCHandle.FromIntPtr(data).Target!).OnReady(Epoll.EventsAt(events, i));
                }
                catch (Exception e)
                {
                    // A socket handles its own failures (RawSocketConnection ends its input on any receive error), so
                    // this is a bug there; still, nothing may take the loop (and every socket on it) down.
                    s_faults.Report(e, "a socket's event");
                }
            }
            CloseForgottenBatch("a socket's event");
            SubmitSendsUnlessMoreComes();
            // Only what was queued when this phase began (at most PostedPerTurn): a drainer that queues itself again
            // after its budget runs next turn, after the sockets had their look.
            var posted = Math.Min(_posted.Count, PostedPerTurn);
            _drainerContinues = false;
            for (var i = 0; i < posted && _posted.TryDequeue(out var item); i++)
            {
                try
                {
                    item.Execute();
                }
                catch (Exception e)
                {
                    // As above (the send scheduler and the connections catch their own).
                    s_faults.Report(e, "a posted item");
                }
                if (HalfFull)
                {
                    SubmitSends();
                }
            }
            CloseForgottenBatch("a posted item");
            SubmitSendsUnlessMoreComes();
            if (_posted.IsEmpty)
            {
                _burst = false;
            }
        }
    }

    /// <summary>
    /// Ends a phase of the turn: submits the sends queued so far, unless the loop is in a burst (it slept, then woke to
    /// work: a game tick's or a broadcast's sends; at most <see cref="MaxBurstTurns"/> turns), a send drainer used up
    /// its budget and queued itself again for the next turn (other posted work does not hold anything), the batch is
    /// under half full and was held fewer than <see cref="MaxHeldPhaseEnds"/> times: then they go with that drainer's next
    /// sends. A broadcast to 256 connections is then two system calls instead of sixteen (one per drainer budget), and
    /// a send that wakes a reader preempts the loop on the way out of two calls, not sixteen: about 14 % less CPU per
    /// message at 256 clients × 200 B @ 20 Hz (four alternations; bench/results/transport-e2e.md, the 12:39 run's
    /// reading).
    /// </summary>
    /// <remarks>
    /// A burst also ends when a writer finds more than one message waiting for its connection (<see cref="NoteBacklog"/>):
    /// messages then come faster than the sends, and the early sends matter more than fewer system calls. Flat out,
    /// where the harness's publisher waits for deliveries, holding had cost about 9 % more CPU per message at 256
    /// clients × 200 B and 10 % of the throughput (the publisher got its window back later, so fewer messages
    /// coalesced per send); ending the burst on a backlog took that back (bench/results/transport-e2e.md, the 13:51
    /// run's reading). Under load that never lets the loop sleep, a burst also ends after its turns.
    /// </remarks>
    private void SubmitSendsUnlessMoreComes()
    {
        if (_ring is null || _ring.Pending == 0)
        {
            _heldPhaseEnds = 0;
            return;
        }
        if (_burst && _drainerContinues && !HalfFull && ++_heldPhaseEnds < MaxHeldPhaseEnds)
        {
            return; // the drainer runs next turn; the loop does not sleep while sends are pending
        }
        _heldPhaseEnds = 0;
        SubmitSends();
    }

    /// <summary>Half the ring's batch is queued: it goes now (a flush that found the batch full would send by itself).</summary>
    private bool HalfFull => _ring is not null && _ring.Pending >= _ring.Capacity / 2;

    private void SubmitSends()
    {
        if (_ring is null)
        {
            return;
        }
        try
        {
            _ring.Submit();
        }
        catch (Exception e)
        {
            s_faults.Report(e, "a batch of sends");
        }
    }

    /// <summary>
    /// A <see cref="SendBatch"/> that a handler began on this loop and never ended would hold every writer first
    /// scheduled here from then on: after each phase of a turn (the sockets' events, the posted items), close it,
    /// release what it held, and report it.
    /// </summary>
    private static void CloseForgottenBatch(string where)
    {
        if (!SendBatch.IsOpen)
        {
            return;
        }
        s_faults.Report(new InvalidOperationException("A SendBatch was left open on an I/O loop; the loop closed it."), where);
        try
        {
            SendBatch.CloseAll();
        }
        catch (Exception e)
        {
            s_faults.Report(e, "releasing a forgotten SendBatch");
        }
    }
}
