using System.Buffers;
using System.Text;

namespace Sol.Transport.Handshake;

/// <summary>
/// Strict HTTP/1.1 request-head parsing (RFC 9112 §2–5) over one contiguous span: <c>method SP target SP version CRLF</c>,
/// then <c>name ":" OWS value OWS CRLF</c> lines, then CRLF. Bare LF, whitespace before the colon, obs-fold, control
/// characters and non-token names are errors (null, answered with 400), never guessed at.
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
        end = buffer.Start;
        return buffer.Length >= maxHeaderBytes ? HeadScan.TooLarge : HeadScan.Incomplete;
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
        if (target.IndexOfAnyInRange((byte)0, (byte)0x20) >= 0 || target.Contains((byte)0x7F) || !IsVersion(version))
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
            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + text : text;
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
