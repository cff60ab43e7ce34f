using System.Runtime.InteropServices;

namespace Sol.Transport.Sockets;

/// <summary>
/// An io_uring of one <see cref="IoLoop"/> (Linux), used for one thing: the sends that the loop's drainers produce in a
/// turn go to the kernel together, in one <c>io_uring_enter</c>, instead of one <c>sendmsg</c> each.
/// </summary>
/// <remarks>
/// <para>Why: on loopback with the clients on the same cores, a send that wakes a reader switches to it on the way out
/// of the system call (bench/results/transport-fanout-profile.md); one call for a batch switches once.</para>
/// <para>Every send is non-blocking (<c>MSG_DONTWAIT</c>: the kernel answers -EAGAIN instead of arming a poll) and
/// <see cref="Submit"/> waits for every completion of its batch, so no buffer, vector or descriptor is used by the
/// kernel after it returns. Only the thread that made a ring uses it (<c>IORING_SETUP_SINGLE_ISSUER</c>). No liburing:
/// three system calls through libc's <c>syscall</c>, and <c>mmap</c>.</para>
/// </remarks>
internal sealed unsafe partial class IoRing : IDisposable
{
    /// <summary>Sends one batch holds at most by default (a flush that finds the batch full sends at once).</summary>
    public const int DefaultCapacity = 256;

    private const int SysSetup = 425;    // io_uring_setup (x64 and Arm64 alike)
    private const int SysEnter = 426;    // io_uring_enter
    private const int SysRegister = 427; // io_uring_register
    private const uint SetupSingleIssuer = 1u << 12;
    private const uint FeatSingleMmap = 1;
    private const uint EnterGetEvents = 1;
    private const int RegisterProbe = 8;
    private const int ProbeOps = 64;
    private const ushort OpSupported = 1;
    private const byte OpSendMsg = 9;
    private const byte OpSend = 26;
    private const long OffSqRing = 0;
    private const long OffCqRing = 0x8000000;
    private const long OffSqes = 0x10000000;
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapSharedPopulate = 0x01 | 0x08000;
    private const int EIntr = LinuxSend.EIntr;
    private const int EBadF = 9;
    private const int EAgain = LinuxSend.EAgain;
    private const int EBusy = 16;
    private const int EInval = 22;
    private const int EOpNotSupp = 95;
    private const int SqeSize = 64;
    private const int CqeSize = 16;
    private static readonly int MessageHeaderSize = sizeof(LinuxSend.MessageHeader);
    private static readonly int SlotSize = MessageHeaderSize + (LinuxSend.MaxVectors * sizeof(LinuxSend.IoVector));

    /// <summary>
    /// What a sender is told when the ring did not send its flush (the ring is broken, the kernel refused the operation,
    /// or the call was interrupted): it sends by itself, as a direct flush would. Unlike -EAGAIN, which means the kernel
    /// tried and its buffer was full, so the flush waits for room.
    /// </summary>
    internal const int NotSent = int.MinValue + 1;

    [ThreadStatic]
    private static IoRing? t_current;

    [ThreadStatic]
    private static bool t_completing;

    private readonly int _fd;
    private readonly (nint Address, nuint Length)[] _mappings;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly byte* _sqes;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly byte* _cqes;
    private readonly byte* _slots; // two halves of Capacity slots: a message header and its vectors each
    private readonly Action<Exception>? _faults;

    // The batch being filled, and the one being submitted (swapped: a completion may start the next batch).
    private SocketSender?[] _filling;
    private SocketSender?[] _submitting;
    private readonly int[] _reapedIndex;
    private readonly int[] _reapedResult;
    private int _filled;
    private int _fillingHalf;
    private long _sent;
    private long _plainSent;
    private long _batches;
    private long _wouldBlock;
    private bool _closed;
    private readonly bool _plainSends; // the kernel knows IORING_OP_SEND: one-piece sends use it

    private IoRing(int capacity, Action<Exception>? faults, bool singleIssuer, bool plainSends, int fd, (nint, nuint)[] mappings, byte* sq, byte* sqOff, byte* cq, byte* cqOff, byte* sqes)
    {
        Capacity = capacity;
        SingleIssuer = singleIssuer;
        _plainSends = plainSends;
        _faults = faults;
        _fd = fd;
        _mappings = mappings;
        _sqTail = (uint*)(sq + *(uint*)(sqOff + 4));
        _sqMask = *(uint*)(sq + *(uint*)(sqOff + 8));
        _sqes = sqes;
        _cqHead = (uint*)(cq + *(uint*)(cqOff + 0));
        _cqTail = (uint*)(cq + *(uint*)(cqOff + 4));
        _cqMask = *(uint*)(cq + *(uint*)(cqOff + 8));
        _cqes = cq + *(uint*)(cqOff + 20);
        _slots = (byte*)NativeMemory.AllocZeroed((nuint)(2 * capacity * SlotSize));
        _filling = new SocketSender?[capacity];
        _submitting = new SocketSender?[capacity];
        _reapedIndex = new int[capacity];
        _reapedResult = new int[capacity];
    }

    /// <summary>
    /// The ring that flushes made on this thread join (its I/O loop's; tests set their own). Only the thread that made
    /// a ring may use it.
    /// </summary>
    public static IoRing? Current
    {
        get => t_current;
        set => t_current = value;
    }

    /// <summary>
    /// This thread is handing out a batch's results: a writer whose flush completes here writes on at once (what it
    /// sends joins the next batch) instead of going back through the send scheduler.
    /// </summary>
    public static bool Completing => t_completing;

    /// <summary>Sends one batch holds at most.</summary>
    public int Capacity { get; }

    /// <summary>Made with <c>IORING_SETUP_SINGLE_ISSUER</c> (Linux 6.0+): the kernel refuses submissions from other threads.</summary>
    public bool SingleIssuer { get; }

    /// <summary>Sends waiting for <see cref="Submit"/>.</summary>
    public int Pending => _filled;

    /// <summary>
    /// The ring is not used any more: <c>io_uring_enter</c> failed in a way that is not expected to pass, or the kernel
    /// refused the send operation itself. Queued and later flushes send with <c>sendmsg</c> instead.
    /// </summary>
    public bool Broken { get; private set; }

    /// <summary>Sends this ring handed to the kernel so far (read from other threads: tests, diagnostics).</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Of <see cref="Sent"/>, those that went as <c>IORING_OP_SEND</c> (one piece) rather than <c>IORING_OP_SENDMSG</c> (tests).</summary>
    public long PlainSent => Volatile.Read(ref _plainSent);

    /// <summary>Batches handed to the kernel so far, one <c>io_uring_enter</c> each when nothing interrupts it (tests, diagnostics).</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>The kernel knows <c>IORING_OP_SEND</c>: one-piece sends use it.</summary>
    public bool PlainSends => _plainSends;

    /// <summary>Sends the kernel answered with -EAGAIN (its buffer was full; the flush then waits for room).</summary>
    public long WouldBlock => Volatile.Read(ref _wouldBlock);

    /// <summary>
    /// A ring for the calling thread, or null where io_uring or its <c>IORING_OP_SENDMSG</c> is missing or refused (a
    /// kernel before 5.6, seccomp, <c>kernel.io_uring_disabled</c>).
    /// </summary>
    /// <param name="capacity">Sends per batch.</param>
    /// <param name="faults">Where an exception thrown by a flush's continuation goes (the loop's fault counter); null: dropped.</param>
    public static IoRing? TryCreate(int capacity = DefaultCapacity, Action<Exception>? faults = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 4096);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            return Create(capacity, faults, SetupSingleIssuer) ?? Create(capacity, faults, 0); // SINGLE_ISSUER is 6.0+
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static IoRing? Create(int capacity, Action<Exception>? faults, uint flags)
    {
        var parameters = stackalloc byte[120]; // struct io_uring_params
        new Span<byte>(parameters, 120).Clear();
        *(uint*)(parameters + 8) = flags;
        var fd = (int)Syscall(SysSetup, capacity, (nint)parameters, 0, 0, 0, 0);
        if (fd < 0)
        {
            return null;
        }
        if (!ProbeSendOps(fd, out var plainSends))
        {
            Close(fd);
            return null;
        }
        var sqEntries = *(uint*)parameters;
        var cqEntries = *(uint*)(parameters + 4);
        var features = *(uint*)(parameters + 20);
        var sqOff = parameters + 40; // struct io_sqring_offsets
        var cqOff = parameters + 80; // struct io_cqring_offsets
        var sqSize = *(uint*)(sqOff + 24) + (sqEntries * 4);
        var cqSize = *(uint*)(cqOff + 20) + (cqEntries * CqeSize);
        var single = (features & FeatSingleMmap) != 0;
        var mappings = single
            ? new (nint, nuint)[] { Map(fd, Math.Max(sqSize, cqSize), OffSqRing), Map(fd, sqEntries * SqeSize, OffSqes) }
            : [Map(fd, sqSize, OffSqRing), Map(fd, cqSize, OffCqRing), Map(fd, sqEntries * SqeSize, OffSqes)];
        if (mappings.Any(m => m.Item1 == 0))
        {
            Unmap(mappings);
            Close(fd);
            return null;
        }
        var sq = (byte*)mappings[0].Item1;
        var cq = single ? sq : (byte*)mappings[1].Item1;
        // The indirection array maps each submission slot to the entry of the same index, once.
        var array = (uint*)(sq + *(uint*)(sqOff + 24));
        for (uint i = 0; i < sqEntries; i++)
        {
            array[i] = i;
        }
        return new IoRing(capacity, faults, flags == SetupSingleIssuer, plainSends, fd, mappings, sq, sqOff, cq, cqOff, (byte*)mappings[^1].Item1);
    }

    /// <summary>
    /// Asks the kernel (<c>IORING_REGISTER_PROBE</c>, 5.6+) whether it knows <c>IORING_OP_SENDMSG</c>, which the ring
    /// needs, and <c>IORING_OP_SEND</c> (<paramref name="plainSend"/>), which one-piece sends use when it is there.
    /// </summary>
    private static bool ProbeSendOps(int fd, out bool plainSend)
    {
        plainSend = false;
        const int Size = 16 + (ProbeOps * 8); // struct io_uring_probe and its ops
        var probe = stackalloc byte[Size];
        new Span<byte>(probe, Size).Clear();
        if (Syscall(SysRegister, fd, RegisterProbe, (nint)probe, ProbeOps, 0, 0) < 0)
        {
            return false;
        }
        var opsLength = probe[1];
        bool Known(byte op) => op < opsLength && (*(ushort*)(probe + 16 + (op * 8) + 2) & OpSupported) != 0;
        plainSend = Known(OpSend);
        return Known(OpSendMsg);
    }

    private static (nint, nuint) Map(int fd, uint size, long offset)
    {
        var address = Mmap(null, size, ProtReadWrite, MapSharedPopulate, fd, offset);
        return (address == (void*)-1 ? 0 : (nint)address, size);
    }

    private static void Unmap((nint Address, nuint Length)[] mappings)
    {
        foreach (var (address, length) in mappings)
        {
            if (address != 0)
            {
                _ = Munmap((void*)address, length);
            }
        }
    }

    /// <summary>Queues <paramref name="sender"/>'s send for the next <see cref="Submit"/>; false when the batch is full or the ring broken.</summary>
    public bool TryQueue(SocketSender sender)
    {
        if (_filled == Capacity || Broken)
        {
            return false;
        }
        _filling[_filled++] = sender;
        return true;
    }

    /// <summary>
    /// Sends the queued batch in one system call and hands each sender its result (on this thread, before returning).
    /// A sender's completion may queue the next batch; that one waits for the next call. An exception thrown by a
    /// flush's continuation goes to the ring's fault reporter; the rest of the batch is handed out all the same.
    /// </summary>
    public void Submit()
    {
        var count = _filled;
        if (count == 0)
        {
            return;
        }
        (_filling, _submitting) = (_submitting, _filling);
        _filled = 0;
        if (Broken)
        {
            // Never enter a broken ring again: each queued flush sends by itself.
            HandOut(count, NotSent);
            return;
        }
        var slots = _slots + (_fillingHalf * Capacity * SlotSize);
        _fillingHalf ^= 1;
        var tail = *_sqTail;
        var submitted = 0;
        for (var i = 0; i < count; i++)
        {
            var slot = slots + (i * SlotSize);
            var vectors = (LinuxSend.IoVector*)(slot + MessageHeaderSize);
            var fd = _submitting[i]!.PrepareRingSend(vectors, out var vectorCount);
            if (fd < 0)
            {
                continue; // torn down before it went out: handed out below with -EBADF
            }
            var sqe = _sqes + ((tail & _sqMask) * SqeSize);
            new Span<byte>(sqe, SqeSize).Clear();
            *(int*)(sqe + 4) = fd;
            if (vectorCount == 1 && _plainSends)
            {
                // One piece (an idle connection's message): a plain send, without the message header the kernel
                // would copy in and take apart (about 0.2 µs a send at 256 clients, bench/results/transport-fanout-profile.md).
                sqe[0] = OpSend;
                *(ulong*)(sqe + 16) = (ulong)vectors[0].Base;
                *(uint*)(sqe + 24) = (uint)vectors[0].Length;
                _plainSent++;
            }
            else
            {
                *(LinuxSend.MessageHeader*)slot = new LinuxSend.MessageHeader { Vectors = vectors, VectorCount = (nuint)vectorCount };
                sqe[0] = OpSendMsg;
                *(ulong*)(sqe + 16) = (ulong)slot;
                *(uint*)(sqe + 24) = 1;
            }
            *(int*)(sqe + 28) = LinuxSend.Flags;
            *(ulong*)(sqe + 32) = (ulong)i;
            tail++;
            submitted++;
        }
        // Two passes: first every completion of the batch is collected and every descriptor let go, then the senders
        // are handed their results — so no continuation runs (and none can tear down a socket of the batch, which
        // would wait for its descriptor) while the kernel still holds a send of this batch.
        var reaped = 0;
        IOException? failure = null;
        if (submitted > 0)
        {
            Volatile.Write(ref *_sqTail, tail); // a release: the kernel sees the entries before the tail
            _batches++;
            var toSubmit = submitted;
            while (reaped < submitted)
            {
                // Submits what is left and waits until every send of the batch has its completion (non-blocking sends
                // complete during the call; the wait is for anything the kernel finished elsewhere).
                var result = Syscall(SysEnter, _fd, toSubmit, submitted - reaped, (nint)EnterGetEvents, 0, 0);
                if (result < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is EIntr or EAgain or EBusy)
                    {
                        reaped = Collect(reaped); // interrupted, or short of memory or completion room: go on
                        continue;
                    }
                    // A failed call consumed none of its entries (a call that took some returns how many), so what
                    // has no completion now never reached the kernel: those flushes send with sendmsg instead.
                    reaped = Collect(reaped);
                    Broken = true;
                    failure = new IOException($"io_uring_enter failed: {Marshal.GetPInvokeErrorMessage(errno)}; this loop sends with sendmsg from now on");
                    break;
                }
                toSubmit -= (int)result;
                reaped = Collect(reaped);
            }
        }
        for (var i = 0; i < count; i++)
        {
            _submitting[i]?.ReleaseRingSend(); // none is in the kernel any more (or ever was: torn down, or refused)
        }
        for (var i = 0; i < reaped; i++)
        {
            var index = _reapedIndex[i];
            var sender = _submitting[index]!;
            _submitting[index] = null;
            Deliver(sender, _reapedResult[i]);
        }
        // Those whose sockets were gone before the batch went out, and after a failed call those it never sent.
        HandOut(count, failure is null ? -EBadF : NotSent);
        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>Collects every completion there is (results by sender index, from <paramref name="reaped"/> on); the count so far.</summary>
    private int Collect(int reaped)
    {
        var head = *_cqHead;
        var tail = Volatile.Read(ref *_cqTail); // an acquire: the entries before the tail are written
        while (head != tail)
        {
            var cqe = _cqes + ((head & _cqMask) * CqeSize);
            var result = *(int*)(cqe + 8);
            _reapedIndex[reaped] = (int)*(ulong*)cqe;
            _reapedResult[reaped] = result;
            reaped++;
            _sent++;
            if (result == -EAgain)
            {
                _wouldBlock++;
            }
            head++;
        }
        Volatile.Write(ref *_cqHead, head); // a release: the kernel may reuse the entries
        return reaped;
    }

    /// <summary>Hands every sender of the batch still waiting <paramref name="result"/>.</summary>
    private void HandOut(int count, int result)
    {
        for (var i = 0; i < count; i++)
        {
            if (_submitting[i] is { } sender)
            {
                _submitting[i] = null;
                Deliver(sender, result);
            }
        }
    }

    /// <summary>
    /// What a sender is told for a completion's <paramref name="result"/>: -EINVAL and -EOPNOTSUPP mean the kernel refused
    /// the operation itself (a partial io_uring: <paramref name="refused"/>; the ring is not used again), so the flush
    /// sends with sendmsg (<see cref="NotSent"/>), which fails the socket only if the send itself is at fault; -EINTR
    /// is retried the same way (as sendmsg's own loop would); anything else as it is.
    /// </summary>
    internal static int ForSender(int result, out bool refused)
    {
        refused = result is -EInval or -EOpNotSupp;
        return refused || result == -EIntr ? NotSent : result;
    }

    private void Deliver(SocketSender sender, int result)
    {
        var told = ForSender(result, out var refused);
        if (refused && !Broken)
        {
            Broken = true;
            _faults?.Invoke(new IOException($"the kernel refused an io_uring send (errno {-result}); this loop sends with sendmsg from now on"));
        }
        result = told;
        t_completing = true;
        try
        {
            sender.OnRingSent(result);
        }
        catch (Exception e)
        {
            // A flush's continuation threw (the writer's own handlers catch theirs; this is a bug there). The batch goes
            // on: every other sender still gets its result.
            _faults?.Invoke(e);
        }
        finally
        {
            t_completing = false;
        }
    }

    /// <summary>Closes the ring (tests; a loop's ring lives as long as the process). Nothing may be queued.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        Broken = true;
        Unmap(_mappings);
        Close(_fd);
        NativeMemory.Free(_slots);
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
