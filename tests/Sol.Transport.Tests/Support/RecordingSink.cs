using System.Buffers;
using Sol.Transport.Frames;

namespace Sol.Transport.Tests.Support;

/// <summary>Records what a <see cref="MessageReader"/> delivers (copies, since payloads are only valid during the call).</summary>
internal sealed class RecordingSink : IFrameSink
{
    public List<(WebSocketMessageKind Kind, byte[] Payload, bool SingleSegment)> Messages { get; } = [];

    public List<byte[]> Pings { get; } = [];

    public List<byte[]> Pongs { get; } = [];

    public (int Code, string Reason)? Close { get; private set; }

    public void OnMessage(WebSocketMessageKind kind, in ReadOnlySequence<byte> payload) => Messages.Add((kind, payload.ToArray(), payload.IsSingleSegment));

    public void OnPing(ReadOnlySpan<byte> payload) => Pings.Add(payload.ToArray());

    public void OnPong(ReadOnlySpan<byte> payload) => Pongs.Add(payload.ToArray());

    public void OnClose(int code, ReadOnlySpan<byte> reason) => Close = (code, System.Text.Encoding.UTF8.GetString(reason));
}
