namespace Sol.Transport.Handshake;

/// <summary>
/// The protocol checks of an upgrade request (RFC 6455 §4.2.1), in order: method GET (405), HTTP/1.1 (505), Host
/// (400), path (404), <c>Upgrade</c> (missing: 426; not <c>websocket</c>: 400), <c>Connection</c> listing <c>upgrade</c> (400),
/// <c>Sec-WebSocket-Version: 13</c> (426 with the supported version), <c>Sec-WebSocket-Key</c> (400), Origin hook
/// (403; only consulted when the request has an Origin, as non-browser clients send none), subprotocol (400). Capacity (503) and the handler's verdict come after, in the server.
/// </summary>
internal static class UpgradeChecks
{
    public static HandshakeRejection? Check(RequestHead head, WebSocketServerOptions options, out string path, out string query, out string? subProtocol)
    {
        var target = head.Target;
        var questionMark = target.IndexOf('?', StringComparison.Ordinal);
        path = questionMark < 0 ? target : target[..questionMark];
        query = questionMark < 0 ? string.Empty : target[(questionMark + 1)..];
        subProtocol = null;
        if (head.Method != "GET")
        {
            return new HandshakeRejection(405, "Only GET can upgrade to a WebSocket.");
        }
        if (head.Version != "HTTP/1.1")
        {
            return new HandshakeRejection(505, "HTTP/1.1 is required.");
        }
        if (string.IsNullOrWhiteSpace(head["Host"]))
        {
            return new HandshakeRejection(400, "The Host header is missing.");
        }
        if (path != options.Path)
        {
            return new HandshakeRejection(404, "Not found.");
        }
        if (head["Upgrade"] is null)
        {
            // A plain HTTP request (a browser tab, curl): say what this endpoint speaks (RFC 9110 §15.5.22).
            return new HandshakeRejection(426, "This endpoint speaks WebSocket only.");
        }
        // A list of protocols (RFC 9110 §7.8): it must name websocket (RFC 6455 §4.2.1), others may come with it.
        if (!ListContains(head["Upgrade"], "websocket"))
        {
            return new HandshakeRejection(400, "Upgrade: websocket is required.");
        }
        if (!ListContains(head["Connection"], "upgrade"))
        {
            return new HandshakeRejection(400, "Connection: Upgrade is required.");
        }
        if (head["Sec-WebSocket-Version"]?.Trim() != "13")
        {
            return new HandshakeRejection(426, "Sec-WebSocket-Version 13 is required.");
        }
        if (!WebSocketAccept.IsValidKey(head["Sec-WebSocket-Key"]?.Trim()))
        {
            return new HandshakeRejection(400, "Sec-WebSocket-Key must be the base64 of 16 bytes.");
        }
        var origin = head["Origin"];
        if (options.AllowOrigin is { } allow && origin is not null && !allow(origin))
        {
            return new HandshakeRejection(403, "Origin not allowed.");
        }
        if (options.SubProtocols.Count > 0)
        {
            var offered = head["Sec-WebSocket-Protocol"];
            foreach (var candidate in options.SubProtocols)
            {
                if (ListContains(offered, candidate, StringComparison.Ordinal))
                {
                    subProtocol = candidate;
                    break;
                }
            }
            if (subProtocol is null)
            {
                return new HandshakeRejection(400, "None of the offered subprotocols is supported.");
            }
        }
        return null;
    }

    /// <summary>Whether a comma-separated token list (e.g. <c>keep-alive, Upgrade</c>) holds <paramref name="token"/>.</summary>
    public static bool ListContains(string? list, string token, StringComparison comparison = StringComparison.OrdinalIgnoreCase)
    {
        if (list is null)
        {
            return false;
        }
        foreach (var range in list.AsSpan().Split(','))
        {
            if (list.AsSpan()[range].Trim().Equals(token, comparison))
            {
                return true;
            }
        }
        return false;
    }
}
