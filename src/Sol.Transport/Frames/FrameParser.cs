using System.Buffers.Binary;
using System.Net.WebSockets;

namespace Sol.Transport.Frames;

/// <summary>
/// Parses a client frame header and checks it (RFC 6455 §5.2), returning a reason instead of throwing:
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// | |1|2|3|       |K|             |                               |
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
/// |     Extended payload length continued, if payload len == 127  |
/// + - - - - - - - - - - - - - - - +-------------------------------+
/// |                               |Masking-key, if MASK set to 1  |
/// +-------------------------------+-------------------------------+
/// | Masking-key (continued)       |          Payload Data         |
/// +-------------------------------- - - - - - - - - - - - - - - - +
/// </code>
/// Errors (all 1002): a reserved bit set (no extension is ever negotiated), an unknown opcode, an unmasked frame, a
/// fragmented or longer-than-125 control frame, a length not in its shortest form or with the 64-bit MSB set.
/// </summary>
internal static class FrameParser
{
    /// <summary>The longest client header: 2 + 8 (length) + 4 (mask).</summary>
    public const int MaxHeaderLength = 14;

    public static HeaderParse TryParse(ReadOnlySpan<byte> bytes, out FrameHeader header, out WebSocketCloseStatus error)
    {
        header = default;
        error = WebSocketCloseStatus.ProtocolError;
        if (bytes.Length < 2)
        {
            return HeaderParse.Incomplete;
        }
        var b0 = bytes[0];
        var b1 = bytes[1];
        var fin = (b0 & 0x80) != 0;
        var opcode = (Opcode)(b0 & 0x0F);
        if ((b0 & 0x70) != 0 || !IsKnown(opcode) || (b1 & 0x80) == 0)
        {
            return HeaderParse.Invalid;
        }
        var length7 = b1 & 0x7F;
        var control = ((byte)opcode & 0x8) != 0;
        if (control && (!fin || length7 > 125))
        {
            return HeaderParse.Invalid;
        }
        var headerLength = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
        if (bytes.Length < headerLength)
        {
            return HeaderParse.Incomplete;
        }
        long length = length7;
        if (length7 == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            if (length < 126)
            {
                return HeaderParse.Invalid;
            }
        }
        else if (length7 == 127)
        {
            var wide = BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
            if (wide > long.MaxValue || wide <= ushort.MaxValue)
            {
                return HeaderParse.Invalid;
            }
            length = (long)wide;
        }
        header = new FrameHeader(fin, opcode, length, Masking.ReadMask(bytes[(headerLength - 4)..]), headerLength);
        return HeaderParse.Complete;
    }

    private static bool IsKnown(Opcode opcode) =>
        opcode is Opcode.Continuation or Opcode.Text or Opcode.Binary or Opcode.Close or Opcode.Ping or Opcode.Pong;

    /// <summary>Close codes a peer may send (RFC 6455 §7.4; 1012–1014 registered since; 3000–4999 for libraries and apps).</summary>
    public static bool IsValidCloseCode(int code) =>
        code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
}
