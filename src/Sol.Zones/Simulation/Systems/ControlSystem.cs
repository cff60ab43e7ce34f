using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>
/// Step 2: turn and thrust from the latest input, with the ship class's turn rate and speed cap. Angular velocity is
/// <c>turn × TurnRate</c>; thrust accelerates along the heading; the speed is then clamped to <c>MaxSpeed</c>.
/// The scalar reference of <see cref="MotionSystem"/>: any change here must be made there too (a test compares them bit
/// for bit).
/// </summary>
internal readonly struct ControlSystem : IZoneSystem
{
    public void Execute(Zone zone, int start, int end)
    {
        var s = zone.State;
        Debug.Assert(end <= s.Count);
        var classes = zone.Classes;
        var dt = zone.TimeStep;
        ref var flags = ref MemoryMarshal.GetArrayDataReference(s.Flags);
        ref var shipClass = ref MemoryMarshal.GetArrayDataReference(s.ShipClass);
        ref var thrustIn = ref MemoryMarshal.GetArrayDataReference(s.ThrustInput);
        ref var turnIn = ref MemoryMarshal.GetArrayDataReference(s.TurnInput);
        ref var rotation = ref MemoryMarshal.GetArrayDataReference(s.Rotation);
        ref var angular = ref MemoryMarshal.GetArrayDataReference(s.AngularVelocity);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(s.VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(s.VelocityY);
        for (var i = start; i < end; i++)
        {
            if ((Unsafe.Add(ref flags, i) & EntityFlags.Dynamic) == 0)
            {
                continue;
            }
            ref readonly var cls = ref classes[Unsafe.Add(ref shipClass, i)];
            Unsafe.Add(ref angular, i) = Unsafe.Add(ref turnIn, i) * cls.TurnRate;
            var x = Unsafe.Add(ref vx, i);
            var y = Unsafe.Add(ref vy, i);
            // No branch on zero thrust: the vector path cannot branch per lane, and both must compute the same bits.
            var (sin, cos) = Trig.SinCos(Unsafe.Add(ref rotation, i));
            var a = Unsafe.Add(ref thrustIn, i) * cls.Thrust * dt;
            x += cos * a;
            y += sin * a;
            var speed2 = (x * x) + (y * y);
            var max = cls.MaxSpeed;
            if (speed2 > max * max)
            {
                var k = max / Math.Sqrt(speed2);
                x *= k;
                y *= k;
            }
            Unsafe.Add(ref vx, i) = x;
            Unsafe.Add(ref vy, i) = y;
        }
    }
}
