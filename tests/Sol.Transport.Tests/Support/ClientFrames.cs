using System.Buffers.Binary;

namespace Sol.Transport.Tests.Support;

/// <summary>Builds client frames byte by byte (masked unless told otherwise), including deliberately malformed ones.</summary>
public static class ClientFrames
{
    public static readonly byte[] DefaultMask = [0x37, 0xFA, 0x21, 0x3D];

    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, byte[]? mask = null,
        int rsv = 0, int forceLengthBytes = 0)
    {
        mask ??= DefaultMask;
        var bytes = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        var maskBit = masked ? 0x80 : 0;
        var length = payload.Length;
        var lengthBytes = forceLengthBytes != 0 ? forceLengthBytes : length <= 125 ? 0 : length <= ushort.MaxValue ? 2 : 8;
        if (lengthBytes == 0)
        {
            bytes.Add((byte)(maskBit | length));
        }
        else if (lengthBytes == 2)
        {
            bytes.Add((byte)(maskBit | 126));
            var b = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)length);
            bytes.AddRange(b);
        }
        else
        {
            bytes.Add((byte)(maskBit | 127));
            var b = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)length);
            bytes.AddRange(b);
        }
        if (masked)
        {
            bytes.AddRange(mask);
        }
        for (var i = 0; i < payload.Length; i++)
        {
            bytes.Add(masked ? (byte)(payload[i] ^ mask[i % 4]) : payload[i]);
        }
        return [.. bytes];
    }

    public static byte[] Text(string text, bool fin = true) => Frame(0x1, System.Text.Encoding.UTF8.GetBytes(text), fin);

    public static byte[] Binary(ReadOnlySpan<byte> payload, bool fin = true) => Frame(0x2, payload, fin);

    public static byte[] Close(int code, string reason = "")
    {
        var reasonBytes = System.Text.Encoding.UTF8.GetBytes(reason);
        var payload = new byte[2 + reasonBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reasonBytes.CopyTo(payload, 2);
        return Frame(0x8, payload);
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>
    /// A valid exchange: text "hello", a ping, 300 binary bytes, "héllo wörld" in two fragments with a pong between
    /// them, then <paramref name="beforeClose"/>, then a close 1000 "bye".
    /// </summary>
    public static byte[] Conversation(params byte[][] beforeClose) => Concat([
        Text("hello"),
        Frame(0x9, "ping"u8),
        Binary(Pattern(300)),
        Text("héllo ", fin: false),
        Frame(0xA, []),
        Frame(0x0, "wörld"u8.ToArray()),
        .. beforeClose,
        Close(1000, "bye")]);

    public static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i * 7 + 3);
        }
        return bytes;
    }
}
