using System.Numerics;
using System.Runtime.CompilerServices;

namespace Sol.Core.Mathematics;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a small, fast generator whose sequence is fixed by this code alone, so a
/// seed means the same galaxy (or NPC path) on every machine and runtime version. <see cref="System.Random"/> promises
/// no such thing across versions. A mutable struct: pass it by <c>ref</c>.
/// </summary>
public struct DeterministicRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public DeterministicRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    /// <summary>Derives an independent stream from a seed and a stream number (for example one per system).</summary>
    public static DeterministicRandom ForStream(ulong seed, ulong stream)
    {
        var mixed = seed ^ (stream * 0x9E3779B97F4A7C15UL);
        return new DeterministicRandom(SplitMix(ref mixed));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A double in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A double in [min, max).</summary>
    public double NextDouble(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>An int in [min, max] (inclusive), without modulo bias.</summary>
    public int NextInt(int min, int maxInclusive)
    {
        var span = (ulong)((long)maxInclusive - min + 1);
        var threshold = (0UL - span) % span;
        while (true)
        {
            var r = NextUInt64();
            var high = Math.BigMul(r, span, out var low);
            if (low >= threshold)
            {
                return (int)((long)min + (long)high);
            }
        }
    }

    /// <summary>A normally distributed double (Box-Muller), mean 0, deviation 1.</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
