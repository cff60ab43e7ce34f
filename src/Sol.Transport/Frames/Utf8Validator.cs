using System.Text.Unicode;

namespace Sol.Transport.Frames;

/// <summary>
/// Incremental UTF-8 validation across segments and fragments: complete code points are checked with
/// <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/> as they arrive (fail fast), an incomplete one at a chunk's end is
/// held (at most 3 bytes) until the next chunk completes it.
/// </summary>
internal struct Utf8Validator
{
    private uint _pending;      // up to 3 held bytes, first in the low byte
    private int _pendingCount;
    private int _pendingNeeded; // total length of the held sequence

    public void Reset()
    {
        _pending = 0;
        _pendingCount = 0;
        _pendingNeeded = 0;
    }

    /// <summary>True when nothing is held (call at the end of a message: a held sequence is truncated, so invalid).</summary>
    public readonly bool IsComplete => _pendingCount == 0;

    /// <summary>Checks the next chunk; false as soon as the bytes cannot be valid UTF-8.</summary>
    public bool Append(ReadOnlySpan<byte> chunk)
    {
        if (_pendingCount > 0)
        {
            Span<byte> joined = stackalloc byte[4];
            for (var k = 0; k < _pendingCount; k++)
            {
                joined[k] = (byte)(_pending >> (k * 8));
            }
            var take = Math.Min(_pendingNeeded - _pendingCount, chunk.Length);
            chunk[..take].CopyTo(joined[_pendingCount..]);
            var have = _pendingCount + take;
            chunk = chunk[take..];
            if (have < _pendingNeeded)
            {
                // Still incomplete: the continuation bytes so far must be continuation bytes.
                for (var k = _pendingCount; k < have; k++)
                {
                    if ((joined[k] & 0xC0) != 0x80)
                    {
                        return false;
                    }
                }
                if (!PrefixCanBeValid(joined[..have]))
                {
                    return false;
                }
                Hold(joined[..have], _pendingNeeded);
                return true;
            }
            if (!Utf8.IsValid(joined[..have]))
            {
                return false;
            }
            Reset();
        }
        if (chunk.IsEmpty)
        {
            return true;
        }
        // Find an incomplete sequence at the end: look back at most 3 bytes for the lead byte.
        var tail = 0;
        var needed = 0;
        for (var back = 1; back <= Math.Min(3, chunk.Length); back++)
        {
            var b = chunk[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: keep looking for its lead
            }
            needed = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
            if (needed > back)
            {
                tail = back;
            }
            break;
        }
        if (!Utf8.IsValid(chunk[..^tail]))
        {
            return false;
        }
        if (tail > 0)
        {
            var held = chunk[^tail..];
            for (var k = 1; k < held.Length; k++)
            {
                if ((held[k] & 0xC0) != 0x80)
                {
                    return false;
                }
            }
            // A lead byte that can never start a valid sequence (e.g. C0, F5+) is caught early by checking the prefix.
            if (!PrefixCanBeValid(held))
            {
                return false;
            }
            Hold(held, needed);
        }
        return true;
    }

    private void Hold(ReadOnlySpan<byte> bytes, int needed)
    {
        _pending = 0;
        for (var k = 0; k < bytes.Length; k++)
        {
            _pending |= (uint)bytes[k] << (k * 8);
        }
        _pendingCount = bytes.Length;
        _pendingNeeded = needed;
    }

    /// <summary>Whether an incomplete sequence could still become a valid code point (RFC 3629 table of well-formed sequences).</summary>
    private static bool PrefixCanBeValid(ReadOnlySpan<byte> held)
    {
        var lead = held[0];
        if (lead is 0xC0 or 0xC1 or >= 0xF5)
        {
            return false;
        }
        if (held.Length < 2)
        {
            return true;
        }
        var second = held[1];
        return lead switch
        {
            0xE0 => second >= 0xA0,
            0xED => second <= 0x9F,
            0xF0 => second >= 0x90,
            0xF4 => second <= 0x8F,
            _ => true,
        };
    }
}
