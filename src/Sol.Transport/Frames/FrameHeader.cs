namespace Sol.Transport.Frames;

/// <summary>A parsed client frame header (RFC 6455 §5.2).</summary>
internal readonly record struct FrameHeader(bool Fin, Opcode Opcode, long PayloadLength, uint Mask, int HeaderLength)
{
    public bool IsControl => ((byte)Opcode & 0x8) != 0;
}
