using Sol.Transport.Frames;

namespace Sol.Transport.Connections;

/// <summary>One queued send; a plain struct in a reused array, so queueing allocates nothing.</summary>
internal struct SendEntry
{
    public SendEntryKind Kind;
    public Opcode Opcode;
    public int Length;
    public byte[]? Buffer;
    public SharedFrame? Frame;
}
