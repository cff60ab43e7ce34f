using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Sol.Transport.Sockets;

/// <summary>
/// The raw socket kind's output: a <see cref="PipeWriter"/> straight onto the socket, with no pipe and no send loop
/// behind it. Written bytes collect in <see cref="BlockMemoryPool"/> blocks; <see cref="FlushAsync"/> hands them to the
/// kernel with non-blocking sends on the calling thread (for a broadcast, the send scheduler's drainer) and only when
/// the kernel's send buffer is full continues asynchronously, completing the flush once everything has gone out. On a
/// thread with an <see cref="IoRing"/> (an I/O loop's) the flush instead joins the ring's batch and completes when the
/// batch has gone out (<see cref="OnRingSent"/>), going on as above when the kernel was full.
/// </summary>
/// <remarks>
/// <para>A flush therefore waits exactly while the kernel cannot take more: the connection's own queue (where a newer
/// snapshot replaces an unsent one) is the only buffer in user space, and nothing is kept between flushes (an idle
/// connection holds no block).</para>
/// <para>Single writer, as for any <see cref="PipeWriter"/>: writes and flushes come one after another, never during
/// a pending flush. <see cref="Complete"/> may also come from another thread while a flush is under way (a connection
/// torn down while the kernel is full): it only marks the writer, and the flush gives the blocks back when it ends.</para>
/// <para>Where it differs from <see cref="Pipe"/>: bytes written but not flushed when the writer completes are dropped
/// (only flushed bytes count); <see cref="Complete"/> with an exception sends no FIN (the owner tears the socket
/// down); and a send under way cannot be taken back half done, so cancellation (<see cref="CancelPendingFlush"/> or
/// the token, which is only looked at, never registered) ends a waiting flush with <see cref="FlushResult.IsCanceled"/>
/// only between sends, once the kernel took the one under way (a cancellation that came while the flush waited ends it
/// before any further send; one that comes while it sends on stops it at the next wait) — a peer that reads nothing
/// keeps it waiting, and a flush that completes at once ignores the token. The unsent rest stays and goes out with the next flush (completing the
/// writer before then sends no FIN). Nothing here uses cancellation today.</para>
/// </remarks>
internal sealed class SocketSender : PipeWriter, IValueTaskSource<FlushResult>
{
    private const int Flushing = 1;
    private const int Completed = 2;
    private const int CompletedWithError = 4;

    // The loop's hand-off (loop mode): only the loop thread calls OnWritable; a flusher that finds the kernel full sets
    // Waiting and stops sending, and OnWritable sends only after taking Waiting back, so one thread sends at a time.
    private const int RoomNone = 0;    // nobody waits for room, none seen since the last look
    private const int RoomWaiting = 1; // a flush waits: OnWritable takes it over
    private const int RoomSeen = 2;    // room (or an OUT event) came while nobody waited: the next waiter looks again first

    private readonly Socket _socket;
    private readonly BlockMemoryPool _pool;
    private readonly Action _onSent;
    private readonly bool _roomFromLoop;
    private readonly bool _ringSends;
    private ManualResetValueTaskSourceCore<FlushResult> _flush; // the pending flush (one at a time)
    private ValueTask<int> _pendingSend;
    private CancellationToken _flushToken;
    private const int InitialSegments = 4;

    /// <summary>
    /// Behind other bytes, shared frames this long or longer are sent from their own bytes unless they fit the block
    /// being written, shorter ones are copied (see <see cref="WriteShared"/>).
    /// </summary>
    internal const int ShareFrom = 1024;

    /// <summary>Once everything is sent, a segment array grown past this (a backlog of 256 KiB or more) is given up.</summary>
    private const int KeptSegments = 64;

    private Segment[] _segments = new Segment[InitialSegments];
    private int _head;      // first segment with unsent bytes
    private int _count;     // segments in use (the last one is written into)
    private int _state;     // Flushing | Completed | CompletedWithError (Interlocked)
    private volatile bool _failed; // the socket failed or was torn down: nothing more goes out
    private volatile bool _cancelFlush;
    private volatile bool _sentFin;
    private int _room;             // RoomNone | RoomWaiting | RoomSeen (Interlocked; loop mode)
    private bool _unsentFlushed;   // a canceled flush left flushed bytes unsent: no clean FIN after them
    private bool _ringRef;         // the socket's handle is held for a send in an IoRing batch

    /// <param name="socket">A non-blocking socket.</param>
    /// <param name="pool">Where the blocks come from.</param>
    /// <param name="roomFromLoop">
    /// The owner's I/O loop watches the socket for room (edge-triggered <c>EPOLLOUT</c>) and calls <see cref="OnWritable"/>:
    /// a flush that finds the kernel full then waits for that instead of a <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>,
    /// which would register the socket with the runtime's own engine too (and wake its thread on every later arrival).
    /// </param>
    /// <param name="ringSends">
    /// With <paramref name="roomFromLoop"/>: a flush made on an I/O loop that has an <see cref="IoRing"/> joins the loop's
    /// batch of sends (one system call for all of them, after the loop's current phase) instead of sending at once.
    /// </param>
    public SocketSender(Socket socket, BlockMemoryPool pool, bool roomFromLoop = false, bool ringSends = false)
    {
        _socket = socket;
        _pool = pool;
        _roomFromLoop = roomFromLoop;
        _ringSends = roomFromLoop && ringSends;
        _onSent = OnSent;
    }

    /// <summary>Bytes handed to the kernel so far (tests).</summary>
    internal long BytesSent { get; private set; }

    /// <summary>
    /// The send side was shut down cleanly (FIN after everything flushed). Read by a teardown on another thread: one that
    /// races the end of a slow flush may see it unset just before the FIN and reset the connection instead — the same
    /// outcome as a teardown a moment earlier.
    /// </summary>
    internal bool SentFin => _sentFin;

    /// <summary>Segments (blocks, arrays or shared frames) held for unsent or unflushed bytes (tests: none once everything went out).</summary>
    internal int HeldSegments => _count - _head;

    /// <summary>Room in the segment array (tests: it shrinks back after a large backlog went out).</summary>
    internal int SegmentCapacity => _segments.Length;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        if ((Volatile.Read(ref _state) & Completed) != 0)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
        var needed = Math.Max(sizeHint, 1);
        if (_count > 0)
        {
            ref var tail = ref _segments[_count - 1];
            if (tail.Memory.Length - tail.End >= needed)
            {
                return tail.Memory[tail.End..];
            }
        }
        return AddSegment(needed).Memory;
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>
    /// Writes a shared frame, taking over one of its references (released once its bytes went out, or when the writer
    /// ends, or at once when it is copied or this throws). A frame that starts a flush, or of <see cref="ShareFrom"/>
    /// bytes or more that does not fit the block being written, is sent from its own bytes (pinned once per frame): a
    /// broadcast then copies nothing into the connections' blocks, and the kernel reads the same hot bytes for every
    /// connection. Anything else is copied into the block, as a plain write would be, so a backlog coalesces.
    /// </summary>
    /// <param name="frame">The frame; one of its references is this call's.</param>
    /// <param name="followedBy">
    /// Bytes written right after it (a snapshot's acknowledgement), 0 for none: a frame that starts the flush is copied
    /// then when both fit one block, so the flush stays one piece (a plain send) instead of a frame, a block for the
    /// rest and a two-piece send — as a game tick's message to one client was before frames had segments of their own.
    /// </param>
    internal void WriteShared(SharedFrame frame, int followedBy = 0)
    {
        var bytes = frame.FrameMemory;
        var copy = _count > 0
            ? bytes.Length < ShareFrom || _segments[_count - 1].RoomInBlock >= bytes.Length // coalesce behind other bytes
            : followedBy > 0 && bytes.Length + followedBy <= BlockMemoryPool.BlockSize;     // one piece with what follows
        if (copy)
        {
            try
            {
                this.Write(bytes.Span);
            }
            finally
            {
                frame.Release();
            }
            return;
        }
        try
        {
            if ((Volatile.Read(ref _state) & Completed) != 0)
            {
                throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
            }
            frame.Pin();
            ref var segment = ref AddSegment();
            segment = new Segment { Frame = frame, Memory = MemoryMarshal.AsMemory(bytes), End = bytes.Length };
        }
        catch
        {
            frame.Release(); // not held by a segment (pinning or growing the segment array can run out of memory)
            throw;
        }
    }

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_count == 0)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(bytes, 0);
            return;
        }
        ref var tail = ref _segments[_count - 1];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, tail.Memory.Length - tail.End);
        tail.End += bytes;
    }

    /// <summary>
    /// Sends everything written so far. Completes at once when the kernel took it all; otherwise when the rest has
    /// gone out. A failed or torn-down socket, or a completed writer, gives <see cref="FlushResult.IsCompleted"/> (as a
    /// pipe whose reader is gone does).
    /// </summary>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        var state = Interlocked.CompareExchange(ref _state, Flushing, 0);
        if (state != 0)
        {
            if ((state & Completed) != 0)
            {
                return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
            }
            throw new InvalidOperationException("A flush is already under way.");
        }
        if (_failed)
        {
            return new ValueTask<FlushResult>(EndFlush(new FlushResult(isCanceled: false, isCompleted: true)));
        }
        if (_roomFromLoop && Volatile.Read(ref _room) == RoomSeen)
        {
            // Forget room seen before this send (the loop reports OUT with nearly every input event): only an edge
            // after it should save a wait. No waiter exists now, so this cannot take a hand-off away.
            Interlocked.CompareExchange(ref _room, RoomNone, RoomSeen);
        }
        if (_ringSends && _head < _count && _segments[_head].Pinned && IoRing.Current is { } ring
            && ring.TryQueue(this))
        {
            // Goes out with the rest of the loop's batch (one system call); the flush completes from OnRingSent.
            _flush.Reset();
            _flushToken = cancellationToken;
            return new ValueTask<FlushResult>(this, _flush.Version);
        }
        if (TrySendNow())
        {
            _unsentFlushed = false;
            return new ValueTask<FlushResult>(EndFlush(new FlushResult(isCanceled: ConsumeCancel(), isCompleted: false)));
        }
        if (_failed)
        {
            return new ValueTask<FlushResult>(EndFlush(new FlushResult(isCanceled: false, isCompleted: true)));
        }
        // The kernel's buffer is full: wait for room (the loop says when), or send the head segment asynchronously.
        _flush.Reset();
        _flushToken = cancellationToken;
        var version = _flush.Version;
        if (_roomFromLoop)
        {
            WaitForRoom();
        }
        else
        {
            StartWaitingSend();
        }
        return new ValueTask<FlushResult>(this, version);
    }

    /// <summary>
    /// The loop saw room in the socket's send buffer (or an error or hang-up, or the owner is tearing it down): a flush
    /// waiting for room goes on sending here, on the loop's thread; otherwise the next flush to find the kernel full
    /// looks once more before it waits (the edge may have come between its send and its wait).
    /// </summary>
    internal void OnWritable()
    {
        if (Interlocked.CompareExchange(ref _room, RoomNone, RoomWaiting) == RoomWaiting)
        {
            SendWhileRoom();
            return;
        }
        Interlocked.CompareExchange(ref _room, RoomSeen, RoomNone);
    }

    /// <summary>
    /// The thread that holds the flush (the flusher, or the loop after a hand-off), the kernel full: hands the flush to
    /// <see cref="OnWritable"/>, or sends on if room came meanwhile. Never entered with a waiter registered
    /// (<c>_room</c> is None or Seen), so the thread calling it is the only one sending.
    /// </summary>
    private void WaitForRoom()
    {
        int room;
        while ((room = Interlocked.CompareExchange(ref _room, RoomWaiting, RoomNone)) != RoomNone)
        {
            Debug.Assert(room == RoomSeen, "a second waiter");
            // Room was seen since the last send: look again (the kernel may still be full: then one send more).
            Interlocked.CompareExchange(ref _room, RoomNone, RoomSeen);
            if (!SendOn())
            {
                return; // the flush is over
            }
        }
    }

    /// <summary>
    /// On the loop, after a hand-off (nothing sent yet: <see cref="IoRing.NotSent"/>) or a ring send's
    /// <paramref name="ringResult"/>: sends until the flush is over or the kernel is full again (then waits once more).
    /// </summary>
    private void SendWhileRoom(int ringResult = IoRing.NotSent)
    {
        var version = _flush.Version;
        try
        {
            var waits = ringResult == IoRing.NotSent
                ? SendOn()
                : !TakeRingResult(ringResult) && StillWaiting(); // the kernel said it is full: wait, no send more first
            if (waits)
            {
                WaitForRoom();
            }
        }
        catch (Exception) when (_flush.Version == version && _flush.GetStatus(version) == ValueTaskSourceStatus.Pending)
        {
            // This flush's result was not set yet. Nothing may escape onto the loop; it ends as if the socket had
            // failed, and no hand-off is left behind.
            _failed = true;
            Interlocked.Exchange(ref _room, RoomNone);
            CompleteFlush(new FlushResult(isCanceled: false, isCompleted: true));
        }
    }

    /// <summary>
    /// The ring builds this flush's send: the consecutive blocks from the head into <paramref name="vectors"/>; the
    /// descriptor (held open until <see cref="OnRingSent"/>), or -1 when the socket is gone.
    /// </summary>
    internal unsafe int PrepareRingSend(LinuxSend.IoVector* vectors, out int count)
    {
        count = 0;
        if (_failed)
        {
            return -1;
        }
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref _ringRef);
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        count = FillVectors(vectors);
        return (int)_socket.SafeHandle.DangerousGetHandle();
    }

    /// <summary>The kernel is done with the ring's send: the descriptor held by <see cref="PrepareRingSend"/> is let go.</summary>
    internal void ReleaseRingSend()
    {
        if (_ringRef)
        {
            _ringRef = false;
            _socket.SafeHandle.DangerousRelease();
        }
    }

    /// <summary>
    /// The ring's send ended with <paramref name="result"/> (bytes, or -errno, or <see cref="IoRing.NotSent"/>; after
    /// <see cref="ReleaseRingSend"/>): the flush completes when everything went out (as a flush that sent at once would).
    /// A short send sends on directly; -EAGAIN, or the kernel full again after that, waits for room (the kernel marked
    /// the socket, so room comes as an edge); <see cref="IoRing.NotSent"/> sends as a direct flush does; any other error
    /// means the socket failed.
    /// </summary>
    internal void OnRingSent(int result)
    {
        ReleaseRingSend();
        SendWhileRoom(result);
    }

    /// <summary>
    /// Takes a ring send's result; true when that ended the flush (everything went out). The ring's send is the flush's
    /// first, as <see cref="TrySendNow"/> is a direct flush's, so what it left (a short send, or blocks past its
    /// vectors) goes out now, before any cancellation is looked at: a flush the kernel takes whole is never canceled.
    /// </summary>
    private bool TakeRingResult(int result)
    {
        if (result >= 0)
        {
            Consume(result);
            if (!_failed && TrySendNow())
            {
                _unsentFlushed = false;
                CompleteFlush(new FlushResult(isCanceled: ConsumeCancel(), isCompleted: false));
                return true;
            }
        }
        else if (result != -LinuxSend.EAgain)
        {
            _failed = true; // -EAGAIN: the kernel is full (send on, then wait for room); anything else: the socket failed
        }
        return false;
    }

    public override void CancelPendingFlush() => _cancelFlush = true;

    /// <summary>
    /// No more writes. When no flush is under way, unsent bytes are dropped (only flushed bytes count), the blocks go
    /// back and the send side is shut down (FIN; not after an <paramref name="exception"/>); otherwise the flush does
    /// that when it ends.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        var previous = Interlocked.Or(ref _state, Completed | (exception is null ? 0 : CompletedWithError));
        if ((previous & (Completed | Flushing)) == 0)
        {
            Finish();
        }
    }

    /// <summary>Marks the socket as gone (it is being torn down): flushes report completed from now on.</summary>
    internal void Fail() => _failed = true;

    FlushResult IValueTaskSource<FlushResult>.GetResult(short token) => _flush.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<FlushResult>.GetStatus(short token) => _flush.GetStatus(token);

    void IValueTaskSource<FlushResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _flush.OnCompleted(continuation, state, token, flags);

    /// <summary>Non-blocking sends of everything written; true when all of it went out.</summary>
    private bool TrySendNow()
    {
        while (_head < _count)
        {
            var sent = SendSome(out var error);
            if (error != SocketError.Success)
            {
                if (error != SocketError.WouldBlock)
                {
                    _failed = true;
                }
                return false;
            }
            Consume(sent);
        }
        return true;
    }

    /// <summary>
    /// One non-blocking send from the head: on Linux the consecutive blocks in one <c>sendmsg</c>, else (or for a
    /// pooled array) the head segment alone.
    /// </summary>
    [SkipLocalsInit] // the vectors are written before they are read; no 512-byte zeroing per send
    private int SendSome(out SocketError error)
    {
        try
        {
            return SendSomeUnguarded(out error);
        }
        catch (ObjectDisposedException)
        {
            error = SocketError.OperationAborted; // torn down under us (Abort on another thread)
            return 0;
        }
    }

    [SkipLocalsInit]
    private unsafe int SendSomeUnguarded(out SocketError error)
    {
        if (LinuxSend.IsSupported && _segments[_head].Pinned)
        {
            var vectors = stackalloc LinuxSend.IoVector[LinuxSend.MaxVectors];
            return LinuxSend.Send(_socket.SafeHandle, vectors, FillVectors(vectors), out error);
        }
        ref var head = ref _segments[_head];
        return _socket.Send(head.Memory.Span[head.Start..head.End], SocketFlags.None, out error);
    }

    /// <summary>The consecutive blocks from the head (at most <see cref="LinuxSend.MaxVectors"/>) as vectors; how many.</summary>
    private unsafe int FillVectors(LinuxSend.IoVector* vectors)
    {
        var count = 0;
        for (var i = _head; i < _count && count < LinuxSend.MaxVectors && _segments[i].Pinned; i++)
        {
            ref var segment = ref _segments[i];
            // Blocks live on the pinned object heap, and a frame is pinned while it is held: the address does not move.
            vectors[count].Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(segment.Memory.Span)) + segment.Start;
            vectors[count].Length = (nuint)(segment.End - segment.Start);
            count++;
        }
        return count;
    }

    /// <summary>Marks <paramref name="sent"/> bytes from the head as gone, giving back the segments sent whole.</summary>
    private void Consume(int sent)
    {
        BytesSent += sent;
        while (_head < _count)
        {
            ref var segment = ref _segments[_head];
            var take = Math.Min(sent, segment.End - segment.Start);
            segment.Start += take;
            sent -= take;
            if (segment.Start < segment.End)
            {
                return;
            }
            ReleaseHead();
        }
    }

    /// <summary>
    /// The slow path: sends the head segment asynchronously (the runtime waits for room), then goes on with
    /// non-blocking sends; repeats until everything went out. Continues through a cached callback and completes the
    /// flush through this object (an <see cref="IValueTaskSource{TResult}"/>), so a slow flush allocates nothing.
    /// </summary>
    private void StartWaitingSend()
    {
        while (true)
        {
            ValueTask<int> send;
            try
            {
                var head = _segments[_head];
#pragma warning disable CA2012 // read once: at once when completed, else from its completion callback (OnSent)
                send = _socket.SendAsync(head.Memory[head.Start..head.End], SocketFlags.None);
#pragma warning restore CA2012
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _failed = true;
                CompleteFlush(new FlushResult(isCanceled: false, isCompleted: true));
                return;
            }
            if (!send.IsCompleted)
            {
                _pendingSend = send;
                send.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onSent); // no captured context
                return;
            }
            if (!AfterSend(send))
            {
                return;
            }
        }
    }

    private void OnSent()
    {
        var send = _pendingSend;
        _pendingSend = default;
        try
        {
            if (AfterSend(send))
            {
                StartWaitingSend();
            }
        }
        catch (Exception) when (_flush.GetStatus(_flush.Version) == ValueTaskSourceStatus.Pending) // its result was not set yet
        {
            // Nothing may escape a socket completion callback; the flush ends as if the socket had failed.
            _failed = true;
            CompleteFlush(new FlushResult(isCanceled: false, isCompleted: true));
        }
    }

    /// <summary>Takes a finished asynchronous send's result and sends on; true when the kernel is full again.</summary>
    private bool AfterSend(ValueTask<int> send)
    {
        try
        {
#pragma warning disable CA2012 // called once the send has completed (IsCompleted, or from its completion callback)
            Consume(send.GetAwaiter().GetResult());
#pragma warning restore CA2012
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _failed = true;
        }
        return SendOn();
    }

    /// <summary>
    /// A waiting flush goes on: non-blocking sends until everything went out (completes the flush), the socket failed
    /// (completes it as completed), a cancellation came (completes it as canceled, between sends), or the kernel is full
    /// again (true: wait once more).
    /// </summary>
    private bool SendOn()
    {
        // A cancellation that came while the flush waited ends it here, before any further send: the send that was
        // under way is the last one (sending on first would make how much stays unsent a race with the peer's reads).
        if (!_failed && !CancelRequested && TrySendNow())
        {
            _unsentFlushed = false;
            CompleteFlush(new FlushResult(isCanceled: ConsumeCancel(), isCompleted: false));
            return false;
        }
        return StillWaiting();
    }

    /// <summary>
    /// The kernel is full, the socket failed or a cancellation came: completes the flush (as completed, or as canceled
    /// between sends) unless it should wait for room (true).
    /// </summary>
    private bool StillWaiting()
    {
        if (_failed)
        {
            CompleteFlush(new FlushResult(isCanceled: false, isCompleted: true));
            return false;
        }
        if (CancelRequested)
        {
            // Between sends: the rest stays for the next flush.
            _cancelFlush = false;
            _unsentFlushed = _head < _count;
            CompleteFlush(new FlushResult(isCanceled: true, isCompleted: false));
            return false;
        }
        return true;
    }

    private bool CancelRequested => _cancelFlush || _flushToken.IsCancellationRequested;

    private void CompleteFlush(FlushResult result)
    {
        _flushToken = default;
        _flush.SetResult(EndFlush(result));
    }

    /// <summary>Ends the flush; when the writer was completed meanwhile, finishes it now.</summary>
    private FlushResult EndFlush(FlushResult result)
    {
        var previous = Interlocked.And(ref _state, ~Flushing);
        if ((previous & Completed) != 0)
        {
            Finish();
            return new FlushResult(result.IsCanceled, isCompleted: true);
        }
        return result;
    }

    private bool ConsumeCancel()
    {
        if (!_cancelFlush)
        {
            return false;
        }
        _cancelFlush = false;
        return true;
    }

    /// <summary>
    /// Gives every block back and, when the socket is still fine, no error completed the writer and no flushed bytes are
    /// left unsent (a canceled flush: the peer would see a clean end in the middle of a message), sends FIN.
    /// </summary>
    private void Finish()
    {
        while (_head < _count)
        {
            ReleaseHead();
        }
        if (!_failed && !_unsentFlushed && (Volatile.Read(ref _state) & CompletedWithError) == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
                _sentFin = true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already reset or torn down: nothing to finish.
            }
        }
    }

    private ref Segment AddSegment(int size)
    {
        ref var segment = ref AddSegment();
        if (size <= BlockMemoryPool.BlockSize)
        {
            var block = _pool.Rent();
            segment = new Segment { Block = block, Memory = block.Memory };
        }
        else
        {
            // Bigger than a block in one piece (a caller's size hint): a pooled array for this once.
            var array = ArrayPool<byte>.Shared.Rent(size);
            segment = new Segment { Array = array, Memory = array };
        }
        return ref segment;
    }

    /// <summary>A new (empty) segment at the end.</summary>
    private ref Segment AddSegment()
    {
        if (_count == _segments.Length)
        {
            if (_head > 0)
            {
                Array.Copy(_segments, _head, _segments, 0, _count - _head);
                Array.Clear(_segments, _count - _head, _head);
                _count -= _head;
                _head = 0;
            }
            else
            {
                Array.Resize(ref _segments, _segments.Length * 2);
            }
        }
        return ref _segments[_count++];
    }

    private void ReleaseHead()
    {
        ref var segment = ref _segments[_head];
        segment.Block?.Dispose();
        segment.Frame?.Release();
        if (segment.Array is { } array)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
        segment = default;
        if (++_head == _count)
        {
            _head = 0;
            _count = 0;
            if (_segments.Length > KeptSegments)
            {
                // A slow client's burst grew it (40 B a segment: up to ~10 KiB at the 1 MiB backlog limit); a
                // connection should not keep that for the rest of its life. Rare, so the new small array is cheap.
                _segments = new Segment[InitialSegments];
            }
        }
    }

    private struct Segment
    {
        public IMemoryOwner<byte>? Block;  // a pinned block, written into
        public SharedFrame? Frame;         // a shared frame's pinned bytes, sent as they are (one reference held)
        public byte[]? Array;              // a pooled array (not pinned), written into
        public Memory<byte> Memory;
        public int Start; // sent up to here
        public int End;   // written up to here

        /// <summary>Free bytes at the end of a block (0 for anything else).</summary>
        public readonly int RoomInBlock => Block is null ? 0 : Memory.Length - End;

        /// <summary>The bytes do not move (a block or a pinned frame): they can go to the kernel by address.</summary>
        public readonly bool Pinned => Block is not null || Frame is not null;
    }
}
