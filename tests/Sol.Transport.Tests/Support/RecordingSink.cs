using System.Buffers;
using System.Runtime.InteropServices;
using Sol.Transport.Frames;

namespace Sol.Transport.Tests.Support;

/// <summary>Records what a <see cref="MessageReader"/> delivers (copies, since payloads are only valid during the call).</summary>
internal sealed class RecordingSink : IFrameSink
{
    public List<(WebSocketMessageKind Kind, byte[] Payload, bool SingleSegment)> Messages { get; } = [];

    public List<byte[]> Pings { get; } = [];

    public List<byte[]> Pongs { get; } = [];

    public (int Code, string Reason)? Close { get; private set; }

    /// <summary>Per message, the array behind each of its payload's segments (null where there is none): what was handed over, copy or not.</summary>
    public List<byte[]?[]> Backing { get; } = [];

    public void OnMessage(WebSocketMessageKind kind, in ReadOnlySequence<byte> payload)
    {
        Messages.Add((kind, payload.ToArray(), payload.IsSingleSegment));
        var arrays = new List<byte[]?>();
        foreach (var segment in payload)
        {
            arrays.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array.Array : null);
        }
        Backing.Add([.. arrays]);
    }

    public void OnPing(ReadOnlySpan<byte> payload) => Pings.Add(payload.ToArray());

    public void OnPong(ReadOnlySpan<byte> payload) => Pongs.Add(payload.ToArray());

    public void OnClose(int code, ReadOnlySpan<byte> reason) => Close = (code, System.Text.Encoding.UTF8.GetString(reason));
}
