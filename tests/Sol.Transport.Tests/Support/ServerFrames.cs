using System.Buffers.Binary;

namespace Sol.Transport.Tests.Support;

/// <summary>Splits what the server sent (unmasked frames) into (opcode, payload) pairs.</summary>
public static class ServerFrames
{
    public static List<(int Opcode, bool Fin, byte[] Payload)> Parse(byte[] bytes)
    {
        var frames = new List<(int, bool, byte[])>();
        var at = 0;
        while (at + 2 <= bytes.Length)
        {
            var fin = (bytes[at] & 0x80) != 0;
            var opcode = bytes[at] & 0x0F;
            Assert.Equal(0, bytes[at + 1] & 0x80); // the server never masks
            long length = bytes[at + 1] & 0x7F;
            var header = 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + 2));
                header = 4;
            }
            else if (length == 127)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at + 2));
                header = 10;
            }
            if (at + header + length > bytes.Length)
            {
                break;
            }
            frames.Add((opcode, fin, bytes.AsSpan(at + header, (int)length).ToArray()));
            at += header + (int)length;
        }
        return frames;
    }

    public static int CloseCode(byte[] payload) => payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : -1;
}
