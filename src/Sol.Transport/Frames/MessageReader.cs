using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace Sol.Transport.Frames;

/// <summary>
/// Turns the bytes of one connection's pipe into messages. A single-frame message whose bytes are all in the pipe is
/// unmasked in place (the pipe's memory is ours to change) and handed over without a copy, even when it spans
/// segments. Fragmented messages and large frames that arrive in pieces are unmasked into a pooled assembly buffer as
/// they come (consuming them, so the pipe's back-pressure never stalls on a big frame), with the mask offset carried
/// across segments. Small frames that are not all there yet are left in the pipe (consumed stays at the frame start).
/// </summary>
/// <remarks>Not thread-safe: one per connection, used by its receive loop. <see cref="Release"/> returns the buffer.</remarks>
internal sealed class MessageReader
{
    /// <summary>A single-frame message up to this size (header included) waits in the pipe until it is whole.</summary>
    public const int WaitForWholeFrameLimit = 16 * 1024;

    private readonly int _maxMessageSize;
    private readonly ArrayPool<byte> _pool;

    // The frame being streamed into the assembly buffer.
    private bool _inPayload;
    private long _frameRemaining;
    private uint _frameMask;
    private int _maskOffset;
    private bool _frameFin;

    // The message being assembled.
    private bool _fragmented;
    private WebSocketMessageKind _messageKind;
    private byte[]? _assembly;
    private int _assembled;
    private Utf8Validator _utf8;

    public MessageReader(int maxMessageSize, ArrayPool<byte> pool)
    {
        _maxMessageSize = maxMessageSize;
        _pool = pool;
    }

    /// <summary>
    /// Handles every complete frame in <paramref name="buffer"/>. <paramref name="consumed"/> and
    /// <paramref name="examined"/> go to <c>PipeReader.AdvanceTo</c>; on <see cref="ReadOutcome.Failed"/>,
    /// <paramref name="error"/> is the close status to send.
    /// </summary>
    public ReadOutcome Read<TSink>(in ReadOnlySequence<byte> buffer, TSink sink, out SequencePosition consumed, out SequencePosition examined, out WebSocketCloseStatus error)
        where TSink : IFrameSink
    {
        Span<byte> scratch = stackalloc byte[FrameParser.MaxHeaderLength + 125];
        var rest = buffer;
        error = WebSocketCloseStatus.Empty;
        examined = buffer.End;
        while (true)
        {
            if (_inPayload)
            {
                if (!ReadPayload(ref rest, out error))
                {
                    consumed = rest.Start;
                    return ReadOutcome.Failed;
                }
                if (_inPayload)
                {
                    consumed = rest.Start;
                    return ReadOutcome.NeedMore; // the frame continues in the next read
                }
                if (_frameFin && !FinishAssembled(sink, out error))
                {
                    consumed = rest.Start;
                    return ReadOutcome.Failed;
                }
                continue;
            }

            consumed = rest.Start;
            if (rest.Length < 2)
            {
                return ReadOutcome.NeedMore;
            }
            var first = rest.FirstSpan;
            scoped ReadOnlySpan<byte> headBytes;
            if (first.Length >= FrameParser.MaxHeaderLength)
            {
                headBytes = first;
            }
            else
            {
                var n = (int)Math.Min(rest.Length, FrameParser.MaxHeaderLength);
                rest.Slice(0, n).CopyTo(scratch);
                headBytes = scratch[..n];
            }
            var parse = FrameParser.TryParse(headBytes, out var header, out error);
            if (parse == HeaderParse.Incomplete)
            {
                return ReadOutcome.NeedMore;
            }
            if (parse == HeaderParse.Invalid)
            {
                return ReadOutcome.Failed;
            }
            var frameLength = header.HeaderLength + header.PayloadLength;

            if (header.IsControl)
            {
                if (rest.Length < frameLength)
                {
                    return ReadOutcome.NeedMore;
                }
                var payload = scratch.Slice(FrameParser.MaxHeaderLength, (int)header.PayloadLength);
                rest.Slice(header.HeaderLength, header.PayloadLength).CopyTo(payload);
                Masking.Unmask(payload, header.Mask, 0);
                rest = rest.Slice(frameLength);
                consumed = rest.Start;
                switch (header.Opcode)
                {
                    case Opcode.Ping:
                        sink.OnPing(payload);
                        break;
                    case Opcode.Pong:
                        sink.OnPong(payload);
                        break;
                    default:
                        return ReadClose(payload, sink, out error);
                }
                continue;
            }

            // A data frame: a continuation must continue something, a new message must not interrupt one.
            if ((header.Opcode == Opcode.Continuation) != _fragmented)
            {
                error = WebSocketCloseStatus.ProtocolError;
                return ReadOutcome.Failed;
            }
            if (_assembled + header.PayloadLength > _maxMessageSize)
            {
                error = WebSocketCloseStatus.MessageTooBig;
                return ReadOutcome.Failed;
            }
            var kind = header.Opcode == Opcode.Text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary;
            if (!_fragmented && header.Fin)
            {
                if (rest.Length >= frameLength)
                {
                    // The whole message is in the pipe: unmask in place, hand it over, no copy.
                    var payload = rest.Slice(header.HeaderLength, header.PayloadLength);
                    UnmaskInPlace(payload, header.Mask);
                    if (kind == WebSocketMessageKind.Text && !IsValidUtf8(payload))
                    {
                        error = WebSocketCloseStatus.InvalidPayloadData;
                        return ReadOutcome.Failed;
                    }
                    sink.OnMessage(kind, payload);
                    rest = rest.Slice(payload.End);
                    continue;
                }
                if (frameLength <= WaitForWholeFrameLimit)
                {
                    return ReadOutcome.NeedMore; // small: wait in the pipe for the rest
                }
            }

            // Stream this frame's payload into the assembly buffer.
            if (!_fragmented)
            {
                _messageKind = kind;
                _assembled = 0;
                _utf8.Reset();
            }
            EnsureCapacity(_assembled + (int)header.PayloadLength);
            _inPayload = true;
            _frameRemaining = header.PayloadLength;
            _frameMask = header.Mask;
            _maskOffset = 0;
            _frameFin = header.Fin;
            _fragmented = !header.Fin;
            rest = rest.Slice(header.HeaderLength);
        }
    }

    /// <summary>Returns the assembly buffer to the pool (the connection is gone).</summary>
    public void Release()
    {
        ReturnAssembly();
        _inPayload = false;
        _fragmented = false;
    }

    private bool ReadPayload(ref ReadOnlySequence<byte> rest, out WebSocketCloseStatus error)
    {
        error = WebSocketCloseStatus.Empty;
        var take = Math.Min(_frameRemaining, rest.Length);
        var chunk = rest.Slice(0, take);
        foreach (var memory in chunk)
        {
            var target = _assembly.AsSpan(_assembled, memory.Length);
            memory.Span.CopyTo(target);
            _maskOffset = Masking.Unmask(target, _frameMask, _maskOffset);
            _assembled += memory.Length;
            if (_messageKind == WebSocketMessageKind.Text && !_utf8.Append(target))
            {
                error = WebSocketCloseStatus.InvalidPayloadData;
                return false;
            }
        }
        _frameRemaining -= take;
        rest = rest.Slice(chunk.End);
        if (_frameRemaining == 0)
        {
            _inPayload = false;
        }
        return true;
    }

    private bool FinishAssembled<TSink>(TSink sink, out WebSocketCloseStatus error)
        where TSink : IFrameSink
    {
        error = WebSocketCloseStatus.Empty;
        if (_messageKind == WebSocketMessageKind.Text && !_utf8.IsComplete)
        {
            error = WebSocketCloseStatus.InvalidPayloadData;
            return false;
        }
        var message = new ReadOnlySequence<byte>(_assembly ?? [], 0, _assembled);
        sink.OnMessage(_messageKind, message);
        // Given back after each message: an idle connection holds no buffer (ArrayPool reuse keeps this allocation-free).
        ReturnAssembly();
        _assembled = 0;
        _fragmented = false;
        return true;
    }

    private static ReadOutcome ReadClose<TSink>(ReadOnlySpan<byte> payload, TSink sink, out WebSocketCloseStatus error)
        where TSink : IFrameSink
    {
        error = WebSocketCloseStatus.Empty;
        if (payload.Length == 0)
        {
            sink.OnClose(-1, default);
            return ReadOutcome.Closed;
        }
        if (payload.Length == 1)
        {
            error = WebSocketCloseStatus.ProtocolError;
            return ReadOutcome.Failed;
        }
        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!FrameParser.IsValidCloseCode(code))
        {
            error = WebSocketCloseStatus.ProtocolError;
            return ReadOutcome.Failed;
        }
        var reason = payload[2..];
        if (!Utf8.IsValid(reason))
        {
            error = WebSocketCloseStatus.InvalidPayloadData;
            return ReadOutcome.Failed;
        }
        sink.OnClose(code, reason);
        return ReadOutcome.Closed;
    }

    private static void UnmaskInPlace(in ReadOnlySequence<byte> payload, uint mask)
    {
        if (payload.IsSingleSegment)
        {
            Masking.Unmask(MemoryMarshal.AsMemory(payload.First).Span, mask, 0);
            return;
        }
        UnmaskSegments(payload, mask);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void UnmaskSegments(in ReadOnlySequence<byte> payload, uint mask)
    {
        var offset = 0;
        foreach (var memory in payload)
        {
            offset = Masking.Unmask(MemoryMarshal.AsMemory(memory).Span, mask, offset);
        }
    }

    private static bool IsValidUtf8(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            return Utf8.IsValid(payload.FirstSpan);
        }
        var validator = default(Utf8Validator);
        foreach (var memory in payload)
        {
            if (!validator.Append(memory.Span))
            {
                return false;
            }
        }
        return validator.IsComplete;
    }

    private void EnsureCapacity(int size)
    {
        if (_assembly is not null && _assembly.Length >= size)
        {
            return;
        }
        var bigger = _pool.Rent(Math.Max(Math.Max(size, 256), Math.Min(_maxMessageSize, (_assembly?.Length ?? 0) * 2)));
        if (_assembly is not null)
        {
            _assembly.AsSpan(0, _assembled).CopyTo(bigger);
            _pool.Return(_assembly);
        }
        _assembly = bigger;
    }

    private void ReturnAssembly()
    {
        if (_assembly is not null)
        {
            _pool.Return(_assembly);
            _assembly = null;
        }
    }
}
