using System.Text;
using Sol.Transport.Handshake;

namespace Sol.Bench.Transport;

/// <summary>
/// The upgrade request as <see cref="DirectBenchServer"/> reads it, and its answer. Only what the harness's clients
/// (<see cref="RawWebSocketClient"/>) and ordinary WebSocket clients send is understood: the request line
/// <c>GET /ws?role=... HTTP/1.1</c>, <c>Sec-WebSocket-Key</c> and, when present, <c>Sec-WebSocket-Protocol</c>
/// (RFC 6455 §4.2.1). <c>Upgrade</c>, <c>Connection</c> and <c>Sec-WebSocket-Version</c> are not checked.
/// </summary>
/// <param name="Status">101 when the upgrade is accepted; 400 or 404 when it is refused.</param>
/// <param name="Key">The client's <c>Sec-WebSocket-Key</c> (accepted requests only; a valid key: 16 bytes in base64).</param>
/// <param name="Role">From the <c>role</c> query parameter.</param>
/// <param name="OffersSubProtocol">Whether the client offered <see cref="IBenchServer.SubProtocol"/>.</param>
internal readonly record struct DirectHandshake(int Status, string? Key, DirectRole Role, bool OffersSubProtocol)
{
    private static readonly DirectHandshake s_badRequest = new(400, null, DirectRole.Echo, false);

    /// <summary>Reads a request head, <paramref name="head"/> being everything before the blank line.</summary>
    public static DirectHandshake Read(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        if (!requestLine.StartsWith("GET "u8) || !requestLine.EndsWith(" HTTP/1.1"u8))
        {
            return s_badRequest;
        }
        var target = requestLine["GET ".Length..^" HTTP/1.1".Length];
        var queryAt = target.IndexOf((byte)'?');
        if (!(queryAt < 0 ? target : target[..queryAt]).SequenceEqual("/ws"u8))
        {
            return s_badRequest with { Status = 404 };
        }
        var role = queryAt < 0 ? DirectRole.Echo : RoleOf(target[(queryAt + 1)..]);
        string? key = null;
        var offersSubProtocol = false;
        var headers = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!headers.IsEmpty)
        {
            var end = headers.IndexOf("\r\n"u8);
            var line = end < 0 ? headers : headers[..end];
            headers = end < 0 ? [] : headers[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon < 0)
            {
                continue;
            }
            var name = line[..colon].Trim(" \t"u8);
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8))
            {
                key = Encoding.ASCII.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8))
            {
                offersSubProtocol |= Offers(value);
            }
        }
        return WebSocketAccept.IsValidKey(key) ? new DirectHandshake(101, key, role, offersSubProtocol) : s_badRequest;
    }

    /// <summary>The whole answer: <c>101 Switching Protocols</c> with the accept hash, or the refusal.</summary>
    public byte[] Response() => Status switch
    {
        101 => Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {Accept(Key!)}\r\n" +
            (OffersSubProtocol ? $"Sec-WebSocket-Protocol: {IBenchServer.SubProtocol}\r\n" : "") +
            "\r\n"),
        404 => "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"u8.ToArray(),
        _ => "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"u8.ToArray(),
    };

    /// <summary>The refusal of a head that does not fit the connection's buffer.</summary>
    public static byte[] TooLarge() => s_badRequest.Response();

    /// <summary>The <c>Sec-WebSocket-Accept</c> value, computed as Sol.Transport does.</summary>
    private static string Accept(string key)
    {
        Span<byte> accept = stackalloc byte[WebSocketAccept.Length];
        WebSocketAccept.Compute(key, accept);
        return Encoding.ASCII.GetString(accept);
    }

    private static DirectRole RoleOf(ReadOnlySpan<byte> query)
    {
        foreach (var range in query.Split((byte)'&'))
        {
            var parameter = query[range];
            if (parameter.SequenceEqual("role=pub"u8))
            {
                return DirectRole.Publisher;
            }
            if (parameter.SequenceEqual("role=sub"u8))
            {
                return DirectRole.Subscriber;
            }
        }
        return DirectRole.Echo;
    }

    private static bool Offers(ReadOnlySpan<byte> protocols)
    {
        foreach (var range in protocols.Split((byte)','))
        {
            if (Ascii.Equals(protocols[range].Trim(" \t"u8), IBenchServer.SubProtocol))
            {
                return true;
            }
        }
        return false;
    }
}
