namespace Sol.Transport;

/// <summary>The kind of a WebSocket data message (RFC 6455 opcodes 0x2 and 0x1).</summary>
public enum WebSocketMessageKind
{
    /// <summary>Binary data (opcode 0x2).</summary>
    Binary,

    /// <summary>UTF-8 text (opcode 0x1); received text is validated, invalid UTF-8 closes with 1007.</summary>
    Text,
}
