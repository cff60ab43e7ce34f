using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Sol.Transport.Frames;

/// <summary>
/// Writes the header of a server frame (never masked, RFC 6455 §5.1): FIN set, no RSV bits, the opcode, and the
/// shortest length encoding (§5.2: 7 bits up to 125, 16 bits up to 65,535, else 64 bits).
/// </summary>
internal static class FrameWriter
{
    /// <summary>The longest server frame header: 2 bytes + a 64-bit length (no mask).</summary>
    public const int MaxHeaderLength = 10;

    /// <summary>Payloads up to this size are copied into the same span as their header (one GetSpan/Advance).</summary>
    private const int InlineCopyLimit = 4096;

    public static int HeaderLength(int payloadLength) => payloadLength <= 125 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    /// <summary>The whole frame's length: header and payload (what <see cref="Write"/> asks the writer for when it writes them in one span).</summary>
    public static int FrameLength(int payloadLength) => HeaderLength(payloadLength) + payloadLength;

    /// <summary>Writes a final frame's header for <paramref name="payloadLength"/> bytes and returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, Opcode opcode, int payloadLength, bool fin = true)
    {
        destination[0] = (byte)((fin ? 0x80 : 0) | (int)opcode);
        if (payloadLength <= 125)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }
        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }
        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>Writes a whole final frame straight into <paramref name="output"/>: header and payload in one span when it fits.</summary>
    public static void Write(IBufferWriter<byte> output, Opcode opcode, ReadOnlySpan<byte> payload)
    {
        if (payload.Length <= InlineCopyLimit)
        {
            var span = output.GetSpan(FrameLength(payload.Length));
            var header = WriteHeader(span, opcode, payload.Length);
            payload.CopyTo(span[header..]);
            output.Advance(header + payload.Length);
            return;
        }
        WriteLarge(output, opcode, payload);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WriteLarge(IBufferWriter<byte> output, Opcode opcode, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(MaxHeaderLength);
        output.Advance(WriteHeader(span, opcode, payload.Length));
        output.Write(payload);
    }

    public static Opcode OpcodeOf(WebSocketMessageKind kind) => kind == WebSocketMessageKind.Text ? Opcode.Text : Opcode.Binary;
}
