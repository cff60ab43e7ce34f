using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sol.Zones.Simulation;

/// <summary>
/// Sine and cosine of a heading in [-π, π] by a fixed polynomial (Taylor to x¹¹ on [-π/2, π/2], error below 6e-8),
/// in scalar and 4-wide form with the exact same operations, so that the vector path of the step and its scalar tail
/// give bit-identical results. It is also independent of the platform's libm, which keeps NPC and ship motion the
/// same on every machine. Measured: <c>Math.SinCos</c> was the largest single cost of the step.
/// </summary>
internal static class Trig
{
    private const double HalfPi = Math.PI / 2;
    private const double C3 = -1.0 / 6;
    private const double C5 = 1.0 / 120;
    private const double C7 = -1.0 / 5040;
    private const double C9 = 1.0 / 362880;
    private const double C11 = -1.0 / 39916800;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (double Sin, double Cos) SinCos(double x)
    {
        var ax = Math.Abs(x);
        var r = Math.Min(ax, Math.PI - ax);
        var ys = x < 0 ? -r : r;
        var yc = HalfPi - ax;
        return (Poly(ys), Poly(yc));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCos(Vector256<double> x, out Vector256<double> sin, out Vector256<double> cos)
    {
        var ax = Vector256.Abs(x);
        var r = Vector256.Min(ax, Vector256.Create(Math.PI) - ax);
        var ys = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero), -r, r);
        var yc = Vector256.Create(HalfPi) - ax;
        sin = Poly(ys);
        cos = Poly(yc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCos(Vector512<double> x, out Vector512<double> sin, out Vector512<double> cos)
    {
        var ax = Vector512.Abs(x);
        var r = Vector512.Min(ax, Vector512.Create(Math.PI) - ax);
        var ys = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<double>.Zero), -r, r);
        var yc = Vector512.Create(HalfPi) - ax;
        sin = Poly(ys);
        cos = Poly(yc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Poly(double y)
    {
        var y2 = y * y;
        var p = (((((((((C11 * y2) + C9) * y2) + C7) * y2) + C5) * y2) + C3) * y2) + 1.0;
        return y * p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Poly(Vector256<double> y)
    {
        var y2 = y * y;
        var p = (((((((((Vector256.Create(C11) * y2) + Vector256.Create(C9)) * y2) + Vector256.Create(C7)) * y2) + Vector256.Create(C5)) * y2) + Vector256.Create(C3)) * y2) + Vector256<double>.One;
        return y * p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Poly(Vector512<double> y)
    {
        var y2 = y * y;
        var p = (((((((((Vector512.Create(C11) * y2) + Vector512.Create(C9)) * y2) + Vector512.Create(C7)) * y2) + Vector512.Create(C5)) * y2) + Vector512.Create(C3)) * y2) + Vector512<double>.One;
        return y * p;
    }
}
