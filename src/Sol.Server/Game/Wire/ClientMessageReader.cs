using System.Buffers;
using Google.FlatBuffers;
using Sol.Core.Protocol;
using Sol.Protocol;

namespace Sol.Server.Game.Wire;

/// <summary>
/// Turns one received WebSocket message into a <see cref="ClientIntent"/>: copies it into this connection's scratch
/// buffer (right-aligned, so FlatBuffers' end-relative alignment holds and the verifier's upper bound is the message's
/// end), runs the FlatBuffers verifier, then reads the fields. Allocation-free for Input, Jump, Land, TakeOff,
/// Colonize and Ping. One reader per connection; not thread-safe.
/// </summary>
public sealed class ClientMessageReader
{
    /// <summary>The largest client message accepted (a SetRoute of ~1,000 systems fits).</summary>
    public const int MaxMessageSize = 4096;

    private readonly byte[] _scratch = new byte[MaxMessageSize];
    private readonly ByteBuffer _buffer;
    private readonly ProtocolVerifier _verifier = new();
    private int _dirtyFrom = MaxMessageSize;

    public ClientMessageReader()
    {
        _buffer = new ByteBuffer(_scratch, MaxMessageSize);
    }

    /// <summary>
    /// Decodes <paramref name="message"/>. Returns false when it is not a valid ClientMessage (the connection is then
    /// closed with 1007). A valid message of a type this server does not know decodes as <see cref="ClientIntentKind.Unknown"/>.
    /// </summary>
    public bool TryRead(ReadOnlySequence<byte> message, out ClientIntent intent)
    {
        intent = default;
        if (message.Length is 0 or > MaxMessageSize)
        {
            return false;
        }
        var length = (int)message.Length;
        var start = MaxMessageSize - length;
        // Bytes left of the message must not be stale: a hostile offset could point there and still pass bounds checks.
        if (_dirtyFrom < start)
        {
            _scratch.AsSpan(_dirtyFrom, start - _dirtyFrom).Clear();
        }
        message.CopyTo(_scratch.AsSpan(start));
        _dirtyFrom = start;
        _buffer.Position = start;
        if (!_verifier.VerifyClientMessage(_buffer))
        {
            return false;
        }
        var root = ClientMessage.GetRootAsClientMessage(_buffer);
        switch (root.PayloadType)
        {
            case ClientPayload.Input:
                var input = root.PayloadAsInput();
                intent = new ClientIntent(ClientIntentKind.Input, input.Seq, Clamp(input.Thrust), Clamp(input.Turn), input.Fire, 0, 0, null, null);
                break;
            case ClientPayload.Jump:
                intent = new ClientIntent(ClientIntentKind.Jump, 0, 0, 0, false, root.PayloadAsJump().Gate, 0, null, null);
                break;
            case ClientPayload.Land:
                intent = new ClientIntent(ClientIntentKind.Land, 0, 0, 0, false, root.PayloadAsLand().Planet, 0, null, null);
                break;
            case ClientPayload.TakeOff:
                intent = new ClientIntent(ClientIntentKind.TakeOff, 0, 0, 0, false, 0, 0, null, null);
                break;
            case ClientPayload.Colonize:
                intent = new ClientIntent(ClientIntentKind.Colonize, 0, 0, 0, false, 0, 0, null, null);
                break;
            case ClientPayload.Ping:
                intent = new ClientIntent(ClientIntentKind.Ping, 0, 0, 0, false, 0, root.PayloadAsPing().ClientTime, null, null);
                break;
            case ClientPayload.SetRoute:
                var route = root.PayloadAsSetRoute();
                intent = new ClientIntent(ClientIntentKind.SetRoute, 0, 0, 0, false, route.Destination, 0, route.GetSystemsArray() ?? [], null);
                break;
            case ClientPayload.Reauth:
                intent = new ClientIntent(ClientIntentKind.Reauth, 0, 0, 0, false, 0, 0, null, root.PayloadAsReauth().Token ?? "");
                break;
            default:
                intent = new ClientIntent(ClientIntentKind.Unknown, 0, 0, 0, false, 0, 0, null, null);
                break;
        }
        return true;
    }

    /// <summary>NaN and infinities become 0; everything else is clamped to [-1, 1].</summary>
    private static float Clamp(float value) => float.IsFinite(value) ? Math.Clamp(value, -1f, 1f) : 0f;
}
