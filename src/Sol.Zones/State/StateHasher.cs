using System.Runtime.CompilerServices;

namespace Sol.Zones.State;

/// <summary>
/// FNV-1a over 64-bit words: a cheap, order-sensitive fingerprint of simulation state, so that tests can prove two
/// runs bit-identical by comparing one number. Doubles and floats go in by their exact bits.
/// </summary>
internal struct StateHasher
{
    private const ulong Prime = 0x100000001B3UL;
    private ulong _hash;

    public StateHasher()
    {
        _hash = 0xCBF29CE484222325UL;
    }

    public readonly ulong Value => _hash;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(ulong word)
    {
        _hash = (_hash ^ word) * Prime;
    }

    public void Add(long value) => Add((ulong)value);

    public void Add(double value) => Add(BitConverter.DoubleToUInt64Bits(value));

    public void Add(float value) => Add(BitConverter.SingleToUInt32Bits(value));
}
