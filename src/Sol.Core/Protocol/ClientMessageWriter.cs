using Google.FlatBuffers;
using Sol.Protocol;

namespace Sol.Core.Protocol;

/// <summary>
/// Encodes client messages (for bots, tools and tests) into one reusable <see cref="FlatBufferBuilder"/>. Each method
/// returns the message's bytes as a segment of the builder's buffer, valid until the next call: send it first.
/// <see cref="Input"/> and <see cref="Ping"/> allocate nothing. Not thread-safe: one writer per connection.
/// </summary>
public sealed class ClientMessageWriter
{
    private readonly FlatBufferBuilder _builder = new(128);

    public ArraySegment<byte> Input(uint seq, float thrust, float turn, bool fire)
    {
        _builder.Clear();
        return Finish(ClientPayload.Input, Sol.Protocol.Input.CreateInput(_builder, seq, thrust, turn, fire).Value);
    }

    public ArraySegment<byte> Jump(uint gate)
    {
        _builder.Clear();
        return Finish(ClientPayload.Jump, Sol.Protocol.Jump.CreateJump(_builder, gate).Value);
    }

    public ArraySegment<byte> Land(uint planet)
    {
        _builder.Clear();
        return Finish(ClientPayload.Land, Sol.Protocol.Land.CreateLand(_builder, planet).Value);
    }

    public ArraySegment<byte> TakeOff()
    {
        _builder.Clear();
        Sol.Protocol.TakeOff.StartTakeOff(_builder);
        return Finish(ClientPayload.TakeOff, Sol.Protocol.TakeOff.EndTakeOff(_builder).Value);
    }

    public ArraySegment<byte> Colonize()
    {
        _builder.Clear();
        Sol.Protocol.Colonize.StartColonize(_builder);
        return Finish(ClientPayload.Colonize, Sol.Protocol.Colonize.EndColonize(_builder).Value);
    }

    public ArraySegment<byte> Ping(double clientTime)
    {
        _builder.Clear();
        return Finish(ClientPayload.Ping, Sol.Protocol.Ping.CreatePing(_builder, clientTime).Value);
    }

    public ArraySegment<byte> SetRoute(ReadOnlySpan<uint> systems, uint destination)
    {
        _builder.Clear();
        var vector = Sol.Protocol.SetRoute.CreateSystemsVector(_builder, systems.ToArray());
        return Finish(ClientPayload.SetRoute, Sol.Protocol.SetRoute.CreateSetRoute(_builder, vector, destination).Value);
    }

    public ArraySegment<byte> Reauth(string token)
    {
        _builder.Clear();
        var text = _builder.CreateString(token);
        return Finish(ClientPayload.Reauth, Sol.Protocol.Reauth.CreateReauth(_builder, text).Value);
    }

    private ArraySegment<byte> Finish(ClientPayload type, int payload)
    {
        _builder.Finish(ClientMessage.CreateClientMessage(_builder, type, payload).Value);
        var buffer = _builder.DataBuffer;
        return buffer.ToArraySegment(buffer.Position, buffer.Length - buffer.Position);
    }
}
