using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Sol.Transport.Connections;
using Sol.Transport.Frames;

namespace Sol.Transport;

public sealed partial class WebSocketConnection
{
    private const int InitialQueueCapacity = 8;
    private const int MaxTrailerLength = 256;

    /// <summary>Payload buffers up to this size go back to the connection's spares instead of the pool.</summary>
    private const int MaxSpareLength = 1024;

    private readonly Lock _sendLock = new();
    private readonly Action _onFlushed;
    private readonly TaskCompletionSource _sendDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _sendLock.
    private SendEntry[] _queue;
    private int _queued;
    private int _queuedBytes;
    private int _flushingBytes;     // reliable bytes of the batch the writer took, until its flush completes
    private SharedFrame? _latest;
    private byte[]? _latestTrailer;
    private int _latestTrailerLength;
    private int _latestIndex = -1;
    private int _pongIndex = -1;    // the unsent pong in _queue, if any: a newer ping's answer replaces its payload
    private bool _closeQueued;      // no more sends (a close frame was queued, or the writer stopped)
    private bool _closeFrameQueued; // a close frame was queued (its status is _closeSentStatus)
    private WebSocketCloseStatus _closeSentStatus;
    private SpareBuffers _spares;   // payload buffers this connection used before (see RentLocked)
    private bool _sparesClosed;     // the connection is gone: buffers go back to the pool

    // Owned by the writer (one batch at a time).
    private SendEntry[] _batch;
    private SharedFrame? _batchLatest;
    private byte[]? _batchTrailer;
    private int _batchTrailerLength;
    private bool _closeInBatch;
    private ValueTask<FlushResult> _pendingFlush;

    private int _scheduled;
    private bool _writerStopped;
    private long _closeDeadline;

    /// <summary>Reliable and ordered: the payload is copied into pooled memory; the header is written straight into the pipe when sent.</summary>
    public void Send(ReadOnlySpan<byte> payload, WebSocketMessageKind kind = WebSocketMessageKind.Binary)
    {
        if (Volatile.Read(ref _closeQueued))
        {
            return;
        }
        lock (_sendLock)
        {
            if (_closeQueued)
            {
                return;
            }
            if (_queuedBytes + _flushingBytes + payload.Length > _options.MaxQueuedBytes)
            {
                OverflowLocked();
            }
            else
            {
                var buffer = RentLocked(Math.Max(payload.Length, 1));
                payload.CopyTo(buffer);
                ref var entry = ref AppendLocked();
                entry.Kind = SendEntryKind.Payload;
                entry.Opcode = FrameWriter.OpcodeOf(kind);
                entry.Buffer = buffer;
                entry.Length = payload.Length;
                _queuedBytes += payload.Length;
            }
        }
        Schedule();
    }

    /// <summary>Reliable and ordered: the already framed bytes are written as they are; the connection takes its own reference.</summary>
    public void Send(SharedFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (Volatile.Read(ref _closeQueued))
        {
            return;
        }
        lock (_sendLock)
        {
            if (_closeQueued)
            {
                return;
            }
            if (_queuedBytes + _flushingBytes + frame.Length > _options.MaxQueuedBytes)
            {
                OverflowLocked();
            }
            else
            {
                frame.AddReference();
                ref var entry = ref AppendLocked();
                entry.Kind = SendEntryKind.Shared;
                entry.Frame = frame;
                _queuedBytes += frame.Length;
            }
        }
        Schedule();
    }

    /// <summary>
    /// Replaceable state (e.g. a snapshot): if the previous latest entry is still unsent, this one replaces it (the older
    /// frame is released and its trailer dropped) and takes the queue position of this call. <paramref name="trailer"/>
    /// (at most 256 bytes; empty for none) is sent as its own binary message right after the frame.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The trailer is longer than 256 bytes (a programming error).</exception>
    public void SendLatest(SharedFrame frame, ReadOnlySpan<byte> trailer = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(trailer.Length, MaxTrailerLength, nameof(trailer));
        if (Volatile.Read(ref _closeQueued))
        {
            return;
        }
        SharedFrame? replaced = null;
        lock (_sendLock)
        {
            if (_closeQueued)
            {
                return;
            }
            if (_latestIndex >= 0)
            {
                _queue[_latestIndex].Kind = SendEntryKind.Dead;
                replaced = _latest;
            }
            frame.AddReference();
            _latest = frame;
            _latestTrailer ??= new byte[MaxTrailerLength];
            trailer.CopyTo(_latestTrailer);
            _latestTrailerLength = trailer.Length;
            _latestIndex = _queued;
            AppendLocked().Kind = SendEntryKind.Latest;
        }
        replaced?.Release();
        Schedule();
    }

    /// <summary>
    /// Starts the close handshake with <paramref name="status"/> (a status that may not be sent, such as 1005 or 1006,
    /// goes as a close frame without a code) and <paramref name="reason"/> (cut to 123 UTF-8 bytes); later sends are
    /// dropped. Only the first call counts.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string? reason = null)
    {
        lock (_sendLock)
        {
            if (_closeQueued)
            {
                return;
            }
            QueueCloseLocked(status, reason);
        }
        Schedule();
    }

    /// <summary>The status this side sent in its close frame (valid once a close was queued).</summary>
    internal WebSocketCloseStatus CloseSentStatus
    {
        get
        {
            lock (_sendLock)
            {
                return _closeSentStatus;
            }
        }
    }

    /// <summary>Whether the writer has stopped for good (close frame flushed, or the peer's side of the pipe is gone).</summary>
    internal bool WriterStopped => _sendDone.Task.IsCompleted;

    /// <summary>Entries queued and not yet taken by the writer (tests).</summary>
    internal int QueuedEntries
    {
        get
        {
            lock (_sendLock)
            {
                return _queued;
            }
        }
    }

    /// <summary>Reliable bytes of the batch being flushed, counted against the backlog limit (tests).</summary>
    internal int FlushingBytes => Volatile.Read(ref _flushingBytes);

    /// <summary>Whether this side queued a close frame (then <see cref="CloseSentStatus"/> is its status).</summary>
    internal bool CloseQueued => Volatile.Read(ref _closeFrameQueued);

    /// <summary>Queues a ping or pong (control payload of at most 125 bytes).</summary>
    private void QueueControl(SendEntryKind kind, ReadOnlySpan<byte> payload)
    {
        lock (_sendLock)
        {
            if (_closeQueued)
            {
                return;
            }
            if (kind == SendEntryKind.Pong)
            {
                if (_pongIndex >= 0)
                {
                    // A pong not sent yet answers only the newest ping (RFC 6455 §5.5.3), so a client that pings and
                    // never reads holds at most one queued pong here instead of one per ping.
                    ReplacePongLocked(ref _queue[_pongIndex], payload);
                    return;
                }
                _pongIndex = _queued;
            }
            byte[]? buffer = null;
            if (!payload.IsEmpty)
            {
                buffer = RentLocked(payload.Length);
                payload.CopyTo(buffer);
            }
            ref var entry = ref AppendLocked();
            entry.Kind = kind;
            entry.Buffer = buffer;
            entry.Length = payload.Length;
        }
        Schedule();
    }

    private void ReplacePongLocked(ref SendEntry pong, ReadOnlySpan<byte> payload)
    {
        if (pong.Buffer is { } held && held.Length < payload.Length)
        {
            _pool.Return(held);
            pong.Buffer = null;
        }
        if (!payload.IsEmpty)
        {
            pong.Buffer ??= RentLocked(payload.Length);
            payload.CopyTo(pong.Buffer);
        }
        pong.Length = payload.Length;
    }

    private void QueueCloseLocked(WebSocketCloseStatus status, string? reason)
    {
        _closeQueued = true;
        _closeSentStatus = status;
        Volatile.Write(ref _closeFrameQueued, true);
        byte[]? buffer = null;
        var length = 0;
        // A status that may not go on the wire (1005, 1006, 1015, unassigned ranges) is sent as a close without a code.
        if (FrameParser.IsValidCloseCode((int)status))
        {
            buffer = _pool.Rent(125);
            BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)status);
            length = 2;
            if (!string.IsNullOrEmpty(reason))
            {
                length += Utf8Prefix(reason, buffer.AsSpan(2, 123));
            }
        }
        ref var entry = ref AppendLocked();
        entry.Kind = SendEntryKind.Close;
        entry.Buffer = buffer;
        entry.Length = length;
        Volatile.Write(ref _closeDeadline, Environment.TickCount64 + (long)_options.CloseTimeout.TotalMilliseconds);
    }

    /// <summary>The reliable backlog went over <see cref="WebSocketServerOptions.MaxQueuedBytes"/>: drop it and close with 1008.</summary>
    private void OverflowLocked()
    {
        ReleaseEntries(_queue, _queued);
        _queued = 0;
        _queuedBytes = 0;
        _latestIndex = -1;
        _pongIndex = -1;
        _latest?.Release();
        _latest = null;
        _logger.LogDebug("Connection {Id}: send backlog over {Limit} bytes, closing with 1008", Id, _options.MaxQueuedBytes);
        QueueCloseLocked(WebSocketCloseStatus.PolicyViolation, "send backlog too large");
    }

    private ref SendEntry AppendLocked()
    {
        if (_queued == _queue.Length)
        {
            Array.Resize(ref _queue, _queue.Length * 2);
        }
        ref var entry = ref _queue[_queued++];
        entry = default;
        return ref entry;
    }

    private void Schedule()
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0 && !SendBatch.TryHold(this))
        {
            _transport.Scheduler.Schedule(this);
        }
    }

    /// <summary>The <see cref="SendBatch"/> that held this writer ended: it runs now (it is still marked scheduled).</summary>
    internal void ReleaseHeld() => _transport.Scheduler.Schedule(this);

    void IScheduledWriter.RunWriter() => Pump();

    /// <summary>
    /// The writer: takes everything queued, writes it into the pipe, flushes once, and repeats until the queue is empty.
    /// A flush that has to wait continues through a cached callback, so steady-state sending allocates nothing.
    /// </summary>
    private void Pump()
    {
        try
        {
            while (true)
            {
                int count;
                lock (_sendLock)
                {
                    if (_writerStopped)
                    {
                        _sendDone.TrySetResult();
                        return; // stays scheduled: no writer runs again
                    }
                    if (_queued == 0)
                    {
                        _flushingBytes = 0;
                        Volatile.Write(ref _scheduled, 0);
                        return;
                    }
                    (_queue, _batch) = (_batch, _queue);
                    count = _queued;
                    _queued = 0;
                    _flushingBytes = _queuedBytes; // still this connection's until flushed: the limit counts them
                    _queuedBytes = 0;
                    _pongIndex = -1;
                    if (_latestIndex >= 0)
                    {
                        _batchLatest = _latest;
                        _latest = null;
                        _latestIndex = -1;
                        _batchTrailer ??= new byte[MaxTrailerLength];
                        _latestTrailer.AsSpan(0, _latestTrailerLength).CopyTo(_batchTrailer);
                        _batchTrailerLength = _latestTrailerLength;
                    }
                }
                if (count > 1)
                {
                    Sockets.IoLoop.NoteBacklog(); // a backlog: this loop sends at every phase end, not in bursts
                }
                WriteBatch(count);
#pragma warning disable CA2012 // the flush is either completed (result read once) or continued once through _onFlushed.
                var flush = _output.FlushAsync();
#pragma warning restore CA2012
                if (!flush.IsCompleted)
                {
                    _pendingFlush = flush;
                    flush.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onFlushed);
                    return;
                }
                if (!AfterFlush(flush.GetAwaiter().GetResult()))
                {
                    return;
                }
                Volatile.Write(ref _flushingBytes, 0);
            }
        }
        catch (Exception e)
        {
            StopWriter(e);
        }
    }

    private void OnFlushed()
    {
        try
        {
#pragma warning disable CA2012 // called by the flush's own completion: the ValueTask has completed.
            var result = _pendingFlush.GetAwaiter().GetResult();
#pragma warning restore CA2012
            _pendingFlush = default;
            if (!AfterFlush(result))
            {
                return;
            }
            Volatile.Write(ref _flushingBytes, 0); // gone to the socket; the next Pump counts its own batch
            var scheduler = _transport.Scheduler;
            // A flush completed by the loop's ring batch writes on here at once: its next flush only joins the next
            // batch, so this is bounded (one batch per writer per Submit) and saves every message a second trip through
            // the scheduler's queue and a second drainer turn. A flush that waited for room
            // still goes back through the scheduler, whose budget keeps a long queue from holding the loop.
            if (scheduler.ResumesWaitedWriters && !Sockets.IoRing.Completing)
            {
                // Still marked scheduled (it owns _scheduled while its flush waits), so it goes in exactly once.
                scheduler.Schedule(this);
            }
            else
            {
                Pump(); // where the flush completed: as cheap as it gets
            }
        }
        catch (Exception e)
        {
            StopWriter(e);
        }
    }

    /// <summary>False when the writer is done (close frame flushed, or the peer's side of the pipe is gone).</summary>
    private bool AfterFlush(FlushResult result)
    {
        if (_closeInBatch || result.IsCompleted || result.IsCanceled)
        {
            StopWriter(null);
            return false;
        }
        return true;
    }

    private void StopWriter(Exception? error)
    {
        if (error is not null)
        {
            _logger.LogDebug(error, "Connection {Id}: send failed", Id);
        }
        lock (_sendLock)
        {
            _writerStopped = true;
            _closeQueued = true;
        }
        _sendDone.TrySetResult();
    }

    private void WriteBatch(int count)
    {
        var batch = _batch;
        try
        {
            for (var i = 0; i < count; i++)
            {
                ref var entry = ref batch[i];
                switch (entry.Kind)
                {
                    case SendEntryKind.Payload:
                        WriteFrame(entry.Opcode, entry.Buffer.AsSpan(0, entry.Length));
                        break;
                    case SendEntryKind.Shared:
                        var frame = entry.Frame!;
                        entry.Frame = null; // WriteShared takes this reference over
                        WriteShared(frame);
                        break;
                    case SendEntryKind.Latest:
                        if (_batchLatest is { } latest)
                        {
                            _batchLatest = null;
                            WriteShared(latest, _batchTrailerLength > 0 ? FrameWriter.FrameLength(_batchTrailerLength) : 0);
                            if (_batchTrailerLength > 0)
                            {
                                WriteFrame(Opcode.Binary, _batchTrailer.AsSpan(0, _batchTrailerLength));
                            }
                        }
                        break;
                    case SendEntryKind.Ping:
                        WriteFrame(Opcode.Ping, default);
                        break;
                    case SendEntryKind.Pong:
                        WriteFrame(Opcode.Pong, entry.Buffer.AsSpan(0, entry.Length));
                        break;
                    case SendEntryKind.Close:
                        WriteFrame(Opcode.Close, entry.Buffer.AsSpan(0, entry.Length));
                        _closeInBatch = true;
                        break;
                    default:
                        break;
                }
            }
        }
        finally
        {
            ReleaseBatch(batch, count);
            _batchLatest?.Release();
            _batchLatest = null;
        }
    }

    /// <summary>
    /// A payload buffer for a send: one of this connection's spares when one is big enough, else from the pool.
    /// </summary>
    /// <remarks>
    /// Why spares: the buffer is rented on the sending thread and given back on the writer's. When many connections
    /// send at once (a tick sends every player a reliable message), the shared pool's per-thread and per-core caches
    /// run dry on one side and overflow on the other, and about three of four such sends allocated a new array
    /// (<c>MessageAllocationTests</c>: 21 B per message with 256 connections' copies out at once). A connection reusing its own buffers
    /// keeps that traffic off the pool: at most four of at most 1 KiB each, given back when the connection ends.
    /// </remarks>
    private byte[] RentLocked(int length)
    {
        for (var i = 0; i < SpareBuffers.Count; i++)
        {
            if (_spares[i] is { } spare && spare.Length >= length)
            {
                _spares[i] = null;
                return spare;
            }
        }
        return _pool.Rent(length);
    }

    /// <summary>Releases a written batch: small payload buffers become spares while there is room, the rest goes back.</summary>
    private void ReleaseBatch(SendEntry[] entries, int count)
    {
        for (var i = 0; i < count; i++)
        {
            ref var entry = ref entries[i];
            if (entry.Buffer is { } buffer && !(buffer.Length <= MaxSpareLength && TryKeepSpare(buffer)))
            {
                _pool.Return(buffer);
            }
            entry.Frame?.Release();
            entry = default;
        }
    }

    private bool TryKeepSpare(byte[] buffer)
    {
        lock (_sendLock)
        {
            if (_sparesClosed)
            {
                return false;
            }
            for (var i = 0; i < SpareBuffers.Count; i++)
            {
                if (_spares[i] is null)
                {
                    _spares[i] = buffer;
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Writes an already framed message and gives up the caller's reference to it; <paramref name="followedBy"/>: the bytes of a trailer right after it.</summary>
    private void WriteShared(SharedFrame frame, int followedBy = 0)
    {
        if (_socketOutput is { } sender)
        {
            sender.WriteShared(frame, followedBy); // sent from the frame's own bytes, or copied into a block; released either way
            return;
        }
        try
        {
            _output.Write(frame.Frame);
        }
        finally
        {
            frame.Release();
        }
    }

    /// <summary>Writes header and payload straight into the pipe.</summary>
    private void WriteFrame(Opcode opcode, ReadOnlySpan<byte> payload) => FrameWriter.Write(_output, opcode, payload);

    private void ReleaseEntries(SendEntry[] entries, int count)
    {
        for (var i = 0; i < count; i++)
        {
            ref var entry = ref entries[i];
            if (entry.Buffer is not null)
            {
                _pool.Return(entry.Buffer);
            }
            entry.Frame?.Release();
            entry = default;
        }
    }

    /// <summary>Releases whatever is still queued once the connection is gone (no leaked pooled buffer or frame reference).</summary>
    private void ReleaseQueued()
    {
        lock (_sendLock)
        {
            _closeQueued = true;
            _writerStopped = true;
            ReleaseEntries(_queue, _queued);
            _queued = 0;
            _queuedBytes = 0;
            _latestIndex = -1;
            _pongIndex = -1;
            _latest?.Release();
            _latest = null;
            _sparesClosed = true;
            for (var i = 0; i < SpareBuffers.Count; i++)
            {
                if (_spares[i] is { } spare)
                {
                    _pool.Return(spare);
                    _spares[i] = null;
                }
            }
        }
    }

    /// <summary>Encodes as much of <paramref name="text"/> as fits without splitting a character.</summary>
    private static int Utf8Prefix(string text, Span<byte> destination)
    {
        var encoder = Encoding.UTF8;
        var length = Math.Min(text.Length, destination.Length);
        while (length > 0 && encoder.GetByteCount(text.AsSpan(0, length)) > destination.Length)
        {
            length--;
        }
        if (length > 0 && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }
        return encoder.GetBytes(text.AsSpan(0, length), destination);
    }

    [InlineArray(Count)]
    private struct SpareBuffers
    {
        public const int Count = 4;

        private byte[]? _element;
    }
}
