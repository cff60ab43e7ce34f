using System.Buffers;

namespace Sol.Transport.Frames;

/// <summary>Where <see cref="MessageReader"/> delivers what it read (the connection; tests record).</summary>
internal interface IFrameSink
{
    /// <summary>A complete message; the payload is only valid during the call.</summary>
    void OnMessage(WebSocketMessageKind kind, in ReadOnlySequence<byte> payload);

    void OnPing(ReadOnlySpan<byte> payload);

    void OnPong(ReadOnlySpan<byte> payload);

    /// <summary>The peer's close frame: <paramref name="code"/> is -1 when it carried no code (1005).</summary>
    void OnClose(int code, ReadOnlySpan<byte> reason);
}
