using System.Buffers;

namespace Sol.Transport.Tests.Support;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> of many small segments (every split point a parser must survive).</summary>
public static class Segments
{
    /// <summary>
    /// <paramref name="bytes"/> in segments of <paramref name="segmentSize"/> (the last takes the rest), over a copy, so
    /// in-place unmasking never changes the caller's array.
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, int segmentSize) =>
        View(bytes.ToArray(), Enumerable.Repeat(segmentSize, int.MaxValue));

    /// <summary>
    /// <paramref name="memory"/> as segments of the given sizes (the last takes the rest), without copying: what the
    /// parser changes in place stays changed, as in a pipe's buffer that comes back unconsumed.
    /// </summary>
    public static ReadOnlySequence<byte> View(Memory<byte> memory, IEnumerable<int> sizes)
    {
        if (memory.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        Segment? first = null;
        Segment? last = null;
        using var size = sizes.GetEnumerator();
        for (var offset = 0; offset < memory.Length;)
        {
            var length = size.MoveNext() ? Math.Clamp(size.Current, 1, memory.Length - offset) : memory.Length - offset;
            var segment = new Segment(memory.Slice(offset, length), offset);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.SetNext(segment);
            }
            last = segment;
            offset += length;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
