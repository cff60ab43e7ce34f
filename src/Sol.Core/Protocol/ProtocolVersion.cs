namespace Sol.Core.Protocol;

/// <summary>The WebSocket subprotocols this build speaks, newest first.</summary>
public static class ProtocolVersion
{
    public const string V1 = "sol.v1";

    /// <summary>Every version the server accepts; a client offers one or more, the server picks the first it knows.</summary>
    public static readonly IReadOnlyList<string> Supported = [V1];
}
