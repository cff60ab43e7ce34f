using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>
/// Step 4: each star pulls every moving entity with <c>GM / r²</c> toward its centre; <c>r</c> is held at no less
/// than the star's radius so that a ship crossing the centre does not get an infinite kick.
/// </summary>
internal readonly struct GravitySystem : IZoneSystem
{
    public void Execute(Zone zone, int start, int end)
    {
        var starX = zone.StarX;
        if (starX.Length == 0)
        {
            return;
        }
        var starY = zone.StarY;
        var mass = zone.StarMass;
        var min2 = zone.StarMinDistance2;
        var s = zone.State;
        Debug.Assert(end <= s.Count);
        var dt = zone.TimeStep;
        ref var flags = ref MemoryMarshal.GetArrayDataReference(s.Flags);
        ref var px = ref MemoryMarshal.GetArrayDataReference(s.PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(s.PositionY);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(s.VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(s.VelocityY);
        for (var i = start; i < end; i++)
        {
            if ((Unsafe.Add(ref flags, i) & EntityFlags.Dynamic) == 0)
            {
                continue;
            }
            var (ax, ay) = Pull(starX, starY, mass, min2, Unsafe.Add(ref px, i), Unsafe.Add(ref py, i));
            Unsafe.Add(ref vx, i) += ax * dt;
            Unsafe.Add(ref vy, i) += ay * dt;
        }
    }

    /// <summary>The stars' pull at (<paramref name="x"/>, <paramref name="y"/>): the one formula, also run ahead by a placement (<see cref="Zone.OrbitVelocityAt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (double Ax, double Ay) Pull(
        ReadOnlySpan<double> starX, ReadOnlySpan<double> starY, ReadOnlySpan<double> mass, ReadOnlySpan<double> min2, double x, double y)
    {
        double ax = 0, ay = 0;
        for (var k = 0; k < starX.Length; k++)
        {
            var dx = starX[k] - x;
            var dy = starY[k] - y;
            var r2 = Math.Max((dx * dx) + (dy * dy), min2[k]);
            var inv = 1.0 / Math.Sqrt(r2);
            var a = mass[k] * (inv * inv * inv);
            ax += dx * a;
            ay += dy * a;
        }
        return (ax, ay);
    }
}
