using System.Buffers;
using System.Text;

namespace Sol.Transport.Handshake;

/// <summary>
/// Strict HTTP/1.1 request-head parsing (RFC 9112 §2–5) over one contiguous span: <c>method SP target SP version CRLF</c>,
/// then <c>name ":" OWS value OWS CRLF</c> lines, then CRLF. Bare LF, whitespace before the colon, obs-fold, control
/// characters, non-token names, a target that is not ASCII and a second Host are errors (null, answered with 400),
/// never guessed at.
/// </summary>
internal ref struct RequestHeadReader
{
    private static readonly SearchValues<byte> s_tokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private ReadOnlySpan<byte> _rest;

    public RequestHeadReader(ReadOnlySpan<byte> head)
    {
        _rest = head;
    }

    /// <summary>Finds the blank line that ends the head within the first <paramref name="maxHeaderBytes"/> bytes, before any parsing.</summary>
    public static HeadScan Scan(in ReadOnlySequence<byte> buffer, int maxHeaderBytes, out SequencePosition end)
    {
        var window = buffer.Length > maxHeaderBytes ? buffer.Slice(0, maxHeaderBytes) : buffer;
        var reader = new SequenceReader<byte>(window);
        if (reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            end = reader.Position;
            return HeadScan.Complete;
        }
        if (FindBareLf(window) is { } afterLf)
        {
            // A line ended by LF alone: the head can only be malformed, and a client that ends its lines so never sends
            // CRLF CRLF. Handed to Read now (which refuses it: 400) rather than left to the handshake timeout.
            end = afterLf;
            return HeadScan.Complete;
        }
        end = buffer.Start;
        return buffer.Length >= maxHeaderBytes ? HeadScan.TooLarge : HeadScan.Incomplete;
    }

    /// <summary>The position after the first LF not preceded by CR, or null when every LF so far ends a CRLF.</summary>
    private static SequencePosition? FindBareLf(in ReadOnlySequence<byte> window)
    {
        byte previous = 0;
        long offset = 0; // of the current segment in the window
        foreach (var memory in window)
        {
            var span = memory.Span;
            var from = 0;
            int lf;
            while ((lf = span[from..].IndexOf((byte)'\n')) >= 0)
            {
                var at = from + lf;
                if ((at > 0 ? span[at - 1] : previous) != (byte)'\r')
                {
                    return window.GetPosition(offset + at + 1);
                }
                from = at + 1;
            }
            if (span.Length > 0)
            {
                previous = span[^1];
            }
            offset += span.Length;
        }
        return null;
    }

    /// <summary>Parses the whole head; null when it is malformed.</summary>
    public RequestHead? Read()
    {
        if (!TryReadLine(out var line))
        {
            return null;
        }
        var sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || line[..sp1].IndexOfAnyExcept(s_tokenChars) >= 0)
        {
            return null;
        }
        var afterMethod = line[(sp1 + 1)..];
        var sp2 = afterMethod.IndexOf((byte)' ');
        if (sp2 <= 0)
        {
            return null;
        }
        var target = afterMethod[..sp2];
        var version = afterMethod[(sp2 + 1)..];
        // The target is ASCII without controls or spaces (RFC 9112 §3.2, RFC 3986): other bytes are refused, not read as '?'.
        if (target.IndexOfAnyInRange((byte)0, (byte)0x20) >= 0 || target.IndexOfAnyInRange((byte)0x7F, (byte)0xFF) >= 0 || !IsVersion(version))
        {
            return null;
        }
        var method = Encoding.ASCII.GetString(line[..sp1]);
        var targetText = Encoding.ASCII.GetString(target);
        var versionText = Encoding.ASCII.GetString(version);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            if (!TryReadLine(out line))
            {
                return null;
            }
            if (line.IsEmpty)
            {
                break;
            }
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].IndexOfAnyExcept(s_tokenChars) >= 0)
            {
                return null; // also rejects obs-fold (a line starting with SP/HTAB) and "Name :"
            }
            var value = line[(colon + 1)..].Trim(" \t"u8);
            foreach (var b in value)
            {
                if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
                {
                    return null;
                }
            }
            var name = Encoding.ASCII.GetString(line[..colon]);
            var text = Encoding.Latin1.GetString(value);
            if (headers.TryGetValue(name, out var earlier))
            {
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
                {
                    return null; // RFC 9112 §3.2: more than one Host is answered with 400
                }
                text = earlier + ", " + text;
            }
            headers[name] = text;
        }
        return _rest.IsEmpty ? new RequestHead(method, targetText, versionText, headers) : null;
    }

    private static bool IsVersion(ReadOnlySpan<byte> version) =>
        version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]);

    private bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        var lf = _rest.IndexOf((byte)'\n');
        if (lf < 1 || _rest[lf - 1] != (byte)'\r')
        {
            line = default;
            return false;
        }
        line = _rest[..(lf - 1)];
        if (line.Contains((byte)'\r'))
        {
            return false;
        }
        _rest = _rest[(lf + 1)..];
        return true;
    }
}
