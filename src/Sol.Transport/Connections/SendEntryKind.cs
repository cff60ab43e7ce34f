namespace Sol.Transport.Connections;

/// <summary>What a queued send entry holds.</summary>
internal enum SendEntryKind : byte
{
    /// <summary>A latest entry that a newer <c>SendLatest</c> replaced: skipped.</summary>
    Dead,

    /// <summary>A reliable payload in a pooled buffer; the header is written straight into the pipe.</summary>
    Payload,

    /// <summary>A reference to a <see cref="SharedFrame"/> (already framed).</summary>
    Shared,

    /// <summary>The queue position of the connection's latest slot (frame + trailer).</summary>
    Latest,

    /// <summary>A ping (empty payload) sent when the client was idle.</summary>
    Ping,

    /// <summary>The answer to a client's ping (payload in a pooled buffer).</summary>
    Pong,

    /// <summary>The close frame (code + reason in a pooled buffer); nothing is sent after it.</summary>
    Close,
}
