using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>Step 5: semi-implicit Euler (velocity already updated, then position); rotation kept in (-π, π].</summary>
internal readonly struct IntegrateSystem : IZoneSystem
{
    public void Execute(Zone zone, int start, int end)
    {
        var s = zone.State;
        Debug.Assert(end <= s.Count);
        var dt = zone.TimeStep;
        var dtf = (float)dt;
        ref var flags = ref MemoryMarshal.GetArrayDataReference(s.Flags);
        ref var px = ref MemoryMarshal.GetArrayDataReference(s.PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(s.PositionY);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(s.VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(s.VelocityY);
        ref var rotation = ref MemoryMarshal.GetArrayDataReference(s.Rotation);
        ref var angular = ref MemoryMarshal.GetArrayDataReference(s.AngularVelocity);
        for (var i = start; i < end; i++)
        {
            if ((Unsafe.Add(ref flags, i) & EntityFlags.Dynamic) == 0)
            {
                continue;
            }
            Unsafe.Add(ref px, i) += Unsafe.Add(ref vx, i) * dt;
            Unsafe.Add(ref py, i) += Unsafe.Add(ref vy, i) * dt;
            var r = Unsafe.Add(ref rotation, i) + (Unsafe.Add(ref angular, i) * dtf);
            if (r > MathF.PI)
            {
                r -= 2 * MathF.PI;
            }
            else if (r <= -MathF.PI)
            {
                r += 2 * MathF.PI;
            }
            Unsafe.Add(ref rotation, i) = r;
        }
    }
}
