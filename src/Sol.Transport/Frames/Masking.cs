using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sol.Transport.Frames;

/// <summary>
/// Client-to-server masking (RFC 6455 §5.3): <c>data[i] ^= mask[(offset + i) % 4]</c>. Vectorised over a repeated
/// mask (the widest of Vector512/256/128 the CPU has, then 4 bytes, then single bytes); resumable across segments and
/// fragments by carrying the mask offset.
/// </summary>
internal static class Masking
{
    /// <summary>The 4 mask bytes as they appear on the wire, read as a little-endian <see cref="uint"/>.</summary>
    public static uint ReadMask(ReadOnlySpan<byte> maskBytes) => BinaryPrimitives.ReadUInt32LittleEndian(maskBytes);

    /// <summary>Unmasks <paramref name="data"/> in place, starting at mask byte <paramref name="offset"/>; returns the offset for the next byte.</summary>
    public static int Unmask(Span<byte> data, uint mask, int offset)
    {
        if (data.IsEmpty)
        {
            return offset;
        }
        // Rotate so that byte 0 of the repeated pattern is mask[offset] (little-endian: byte 0 is the low byte).
        var rotated = BitOperations.RotateRight(mask, (offset & 3) * 8);
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = data.Length;
        var i = 0;
        // Every vector width is a multiple of 4, so every vector starts at the same mask phase.
        if (Vector512.IsHardwareAccelerated && length >= Vector512<byte>.Count)
        {
            var maskVector = Vector512.Create(rotated).AsByte();
            var last = length - Vector512<byte>.Count;
            for (; i <= last; i += Vector512<byte>.Count)
            {
                ref var at = ref Unsafe.Add(ref start, i);
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref at) ^ maskVector, ref at);
            }
        }
        if (Vector256.IsHardwareAccelerated && length - i >= Vector256<byte>.Count)
        {
            var maskVector = Vector256.Create(rotated).AsByte();
            var last = length - Vector256<byte>.Count;
            for (; i <= last; i += Vector256<byte>.Count)
            {
                ref var at = ref Unsafe.Add(ref start, i);
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref at) ^ maskVector, ref at);
            }
        }
        if (Vector128.IsHardwareAccelerated && length - i >= Vector128<byte>.Count)
        {
            var maskVector = Vector128.Create(rotated).AsByte();
            var last = length - Vector128<byte>.Count;
            for (; i <= last; i += Vector128<byte>.Count)
            {
                ref var at = ref Unsafe.Add(ref start, i);
                Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref at) ^ maskVector, ref at);
            }
        }
        for (; i <= length - 4; i += 4)
        {
            ref var at = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref at, Unsafe.ReadUnaligned<uint>(ref at) ^ (BitConverter.IsLittleEndian ? rotated : BinaryPrimitives.ReverseEndianness(rotated)));
        }
        for (var k = 0; i < length; i++, k++)
        {
            Unsafe.Add(ref start, i) ^= (byte)(rotated >> (k * 8));
        }
        return (offset + length) & 3;
    }
}
