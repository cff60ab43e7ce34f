using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>
/// Steps 2, 4, 5 and 6 (control, gravity, integrate, damage) fused and four entities at a time with
/// <see cref="Vector256{T}"/>: the same operations, in the same order, as <see cref="ControlSystem"/>,
/// <see cref="GravitySystem"/>, <see cref="IntegrateSystem"/> and <see cref="DamageSystem"/>, so the result is
/// bit-identical to running those four one after the other (a test checks it). Entities that do not move (stars,
/// planets, gates, colonies) are left untouched through a per-lane mask. The last <c>(end - start) mod 4</c> entities
/// go through the scalar systems.
/// </summary>
/// <remarks>
/// Rotation, angular velocity, hull and the inputs are <see cref="float"/> columns: they are computed in
/// <see cref="Vector128{T}"/> of floats, exactly as the scalar code does in float, and widened to double only where the
/// scalar code widens them.
/// </remarks>
internal readonly struct MotionSystem : IZoneSystem
{
    public void Execute(Zone zone, int start, int end)
    {
        var i = start;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx2.IsSupported && !zone.NarrowMotion)
        {
            i = ExecuteVector512(zone, i, end);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            i = ExecuteVector(zone, i, end);
        }
        if (i < end)
        {
            default(ControlSystem).Execute(zone, i, end);
            default(GravitySystem).Execute(zone, i, end);
            default(IntegrateSystem).Execute(zone, i, end);
            default(DamageSystem).Execute(zone, i, end);
        }
    }

    private static int ExecuteVector(Zone zone, int start, int end)
    {
        var s = zone.State;
        Debug.Assert(end <= s.Count);
        var classes = zone.Classes;
        var dt = zone.TimeStep;
        var dtv = Vector256.Create(dt);
        var dtf = Vector128.Create((float)dt);
        var starX = zone.StarX;
        var starY = zone.StarY;
        var mass = zone.StarMass;
        var min2 = zone.StarMinDistance2;
        var damage2 = zone.StarDamage2;
        var damage = Vector128.Create((float)(zone.StarDamagePerSecond * dt));
        var pi = Vector128.Create(MathF.PI);
        var twoPi = Vector128.Create(2 * MathF.PI);

        ref var flags = ref Unsafe.As<EntityFlags, byte>(ref MemoryMarshal.GetArrayDataReference(s.Flags));
        ref var shipClass = ref MemoryMarshal.GetArrayDataReference(s.ShipClass);
        ref var thrustIn = ref MemoryMarshal.GetArrayDataReference(s.ThrustInput);
        ref var turnIn = ref MemoryMarshal.GetArrayDataReference(s.TurnInput);
        ref var rotation = ref MemoryMarshal.GetArrayDataReference(s.Rotation);
        ref var angular = ref MemoryMarshal.GetArrayDataReference(s.AngularVelocity);
        ref var hull = ref MemoryMarshal.GetArrayDataReference(s.Hull);
        ref var px = ref MemoryMarshal.GetArrayDataReference(s.PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(s.PositionY);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(s.VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(s.VelocityY);

        var i = start;
        for (; i + 4 <= end; i += 4)
        {
            var flagBytes = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref flags, i));
            var dynamicBits = flagBytes & 0x01010101u;
            if (dynamicBits == 0)
            {
                continue;
            }
            var mask32 = Vector128.Create(
                (flagBytes & 0x1u) != 0 ? -1 : 0,
                (flagBytes & 0x100u) != 0 ? -1 : 0,
                (flagBytes & 0x10000u) != 0 ? -1 : 0,
                (flagBytes & 0x1000000u) != 0 ? -1 : 0);
            var maskF = mask32.AsSingle();
            var maskD = Widen(mask32).AsDouble();

            // Ship class stats per lane; one broadcast when the four share a class (the usual case).
            Vector256<double> maxSpeed, thrustAcc;
            Vector128<float> turnRate;
            var classBytes = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref shipClass, i));
            if (classBytes == (classBytes & 0xFF) * 0x01010101u)
            {
                ref readonly var c = ref classes[classBytes & 0xFF];
                maxSpeed = Vector256.Create(c.MaxSpeed);
                thrustAcc = Vector256.Create(c.Thrust);
                turnRate = Vector128.Create(c.TurnRate);
            }
            else
            {
                ref readonly var c0 = ref classes[classBytes & 0xFF];
                ref readonly var c1 = ref classes[(classBytes >> 8) & 0xFF];
                ref readonly var c2 = ref classes[(classBytes >> 16) & 0xFF];
                ref readonly var c3 = ref classes[classBytes >> 24];
                maxSpeed = Vector256.Create(c0.MaxSpeed, c1.MaxSpeed, c2.MaxSpeed, c3.MaxSpeed);
                thrustAcc = Vector256.Create(c0.Thrust, c1.Thrust, c2.Thrust, c3.Thrust);
                turnRate = Vector128.Create(c0.TurnRate, c1.TurnRate, c2.TurnRate, c3.TurnRate);
            }

            // Control.
            var rot = Vector128.LoadUnsafe(ref rotation, (nuint)i);
            var oldAngular = Vector128.LoadUnsafe(ref angular, (nuint)i);
            var newAngular = Vector128.LoadUnsafe(ref turnIn, (nuint)i) * turnRate;
            Trig.SinCos(Widen(rot), out var sin, out var cos);
            var a = Widen(Vector128.LoadUnsafe(ref thrustIn, (nuint)i)) * thrustAcc * dtv;
            var oldVx = Vector256.LoadUnsafe(ref vx, (nuint)i);
            var oldVy = Vector256.LoadUnsafe(ref vy, (nuint)i);
            var x = oldVx + (cos * a);
            var y = oldVy + (sin * a);
            var speed2 = (x * x) + (y * y);
            var over = Vector256.GreaterThan(speed2, maxSpeed * maxSpeed);
            if (over != Vector256<double>.Zero)
            {
                var k = maxSpeed / Vector256.Sqrt(speed2);
                x = Vector256.ConditionalSelect(over, x * k, x);
                y = Vector256.ConditionalSelect(over, y * k, y);
            }

            // Gravity.
            var oldPx = Vector256.LoadUnsafe(ref px, (nuint)i);
            var oldPy = Vector256.LoadUnsafe(ref py, (nuint)i);
            if (starX.Length > 0)
            {
                var ax = Vector256<double>.Zero;
                var ay = Vector256<double>.Zero;
                for (var k = 0; k < starX.Length; k++)
                {
                    var dx = Vector256.Create(starX[k]) - oldPx;
                    var dy = Vector256.Create(starY[k]) - oldPy;
                    var r2 = Vector256.Max((dx * dx) + (dy * dy), Vector256.Create(min2[k]));
                    var inv = Vector256<double>.One / Vector256.Sqrt(r2);
                    var g = Vector256.Create(mass[k]) * (inv * inv * inv);
                    ax += dx * g;
                    ay += dy * g;
                }
                x += ax * dtv;
                y += ay * dtv;
            }

            // Integrate.
            var newPx = oldPx + (x * dtv);
            var newPy = oldPy + (y * dtv);
            var r = rot + (newAngular * dtf);
            r = Vector128.ConditionalSelect(Vector128.GreaterThan(r, pi), r - twoPi, Vector128.ConditionalSelect(Vector128.LessThanOrEqual(r, -pi), r + twoPi, r));

            Vector256.ConditionalSelect(maskD, x, oldVx).StoreUnsafe(ref vx, (nuint)i);
            Vector256.ConditionalSelect(maskD, y, oldVy).StoreUnsafe(ref vy, (nuint)i);
            Vector256.ConditionalSelect(maskD, newPx, oldPx).StoreUnsafe(ref px, (nuint)i);
            Vector256.ConditionalSelect(maskD, newPy, oldPy).StoreUnsafe(ref py, (nuint)i);
            Vector128.ConditionalSelect(maskF, newAngular, oldAngular).StoreUnsafe(ref angular, (nuint)i);
            Vector128.ConditionalSelect(maskF, r, rot).StoreUnsafe(ref rotation, (nuint)i);

            // Damage.
            if (starX.Length > 0)
            {
                var hits = Vector128<int>.Zero;
                for (var k = 0; k < starX.Length; k++)
                {
                    var dx = Vector256.Create(starX[k]) - newPx;
                    var dy = Vector256.Create(starY[k]) - newPy;
                    var inside = Vector256.LessThan((dx * dx) + (dy * dy), Vector256.Create(damage2[k]));
                    hits -= Narrow(inside.AsInt64());
                }
                hits &= mask32;
                if (hits != Vector128<int>.Zero)
                {
                    ref var h = ref Unsafe.Add(ref hull, i);
                    var oldHull = Vector128.LoadUnsafe(ref h);
                    var hit = Vector128.GreaterThan(hits, Vector128<int>.Zero).AsSingle();
                    var newHull = Vector128.ConditionalSelect(hit, oldHull - (damage * Vector128.ConvertToSingle(hits)), oldHull);
                    newHull.StoreUnsafe(ref h);
                    for (var lane = 0; lane < 4; lane++)
                    {
                        if (hits.GetElement(lane) > 0 && newHull.GetElement(lane) <= 0)
                        {
                            zone.MarkDestroyed(i + lane);
                        }
                    }
                }
            }
        }
        return i;
    }

    /// <summary>
    /// The same kernel as <see cref="ExecuteVector"/>, eight entities at a time (<see cref="Vector512{T}"/> for the
    /// double columns, <see cref="Vector256{T}"/> for the float ones) where the machine has AVX-512: every lane does the
    /// same operations in the same order, so the bits are the same.
    /// </summary>
    private static int ExecuteVector512(Zone zone, int start, int end)
    {
        var s = zone.State;
        Debug.Assert(end <= s.Count);
        var classes = zone.Classes;
        var dt = zone.TimeStep;
        var dtv = Vector512.Create(dt);
        var dtf = Vector256.Create((float)dt);
        var starX = zone.StarX;
        var starY = zone.StarY;
        var mass = zone.StarMass;
        var min2 = zone.StarMinDistance2;
        var damage2 = zone.StarDamage2;
        var damage = Vector256.Create((float)(zone.StarDamagePerSecond * dt));
        var pi = Vector256.Create(MathF.PI);
        var twoPi = Vector256.Create(2 * MathF.PI);

        ref var flags = ref Unsafe.As<EntityFlags, byte>(ref MemoryMarshal.GetArrayDataReference(s.Flags));
        ref var shipClass = ref MemoryMarshal.GetArrayDataReference(s.ShipClass);
        ref var thrustIn = ref MemoryMarshal.GetArrayDataReference(s.ThrustInput);
        ref var turnIn = ref MemoryMarshal.GetArrayDataReference(s.TurnInput);
        ref var rotation = ref MemoryMarshal.GetArrayDataReference(s.Rotation);
        ref var angular = ref MemoryMarshal.GetArrayDataReference(s.AngularVelocity);
        ref var hull = ref MemoryMarshal.GetArrayDataReference(s.Hull);
        ref var px = ref MemoryMarshal.GetArrayDataReference(s.PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(s.PositionY);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(s.VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(s.VelocityY);

        var i = start;
        for (; i + 8 <= end; i += 8)
        {
            var flagBytes = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref flags, i));
            if ((flagBytes & 0x0101010101010101ul) == 0)
            {
                continue;
            }
            var flagInts = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(flagBytes).AsByte());
            var mask32 = ~Vector256.Equals(flagInts & Vector256<int>.One, Vector256<int>.Zero);
            var maskF = mask32.AsSingle();
            var maskD = Widen(mask32).AsDouble();

            // Ship class stats per lane; one broadcast when the eight share a class (the usual case).
            Vector512<double> maxSpeed, thrustAcc;
            Vector256<float> turnRate;
            var classBytes = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref shipClass, i));
            if (classBytes == (classBytes & 0xFF) * 0x0101010101010101ul)
            {
                ref readonly var c = ref classes[(int)(classBytes & 0xFF)];
                maxSpeed = Vector512.Create(c.MaxSpeed);
                thrustAcc = Vector512.Create(c.Thrust);
                turnRate = Vector256.Create(c.TurnRate);
            }
            else
            {
                ClassLanes(classes, classBytes, out maxSpeed, out thrustAcc, out turnRate);
            }

            // Control.
            var rot = Vector256.LoadUnsafe(ref rotation, (nuint)i);
            var oldAngular = Vector256.LoadUnsafe(ref angular, (nuint)i);
            var newAngular = Vector256.LoadUnsafe(ref turnIn, (nuint)i) * turnRate;
            Trig.SinCos(Widen(rot), out var sin, out var cos);
            var a = Widen(Vector256.LoadUnsafe(ref thrustIn, (nuint)i)) * thrustAcc * dtv;
            var oldVx = Vector512.LoadUnsafe(ref vx, (nuint)i);
            var oldVy = Vector512.LoadUnsafe(ref vy, (nuint)i);
            var x = oldVx + (cos * a);
            var y = oldVy + (sin * a);
            var speed2 = (x * x) + (y * y);
            var over = Vector512.GreaterThan(speed2, maxSpeed * maxSpeed);
            if (over != Vector512<double>.Zero)
            {
                var k = maxSpeed / Vector512.Sqrt(speed2);
                x = Vector512.ConditionalSelect(over, x * k, x);
                y = Vector512.ConditionalSelect(over, y * k, y);
            }

            // Gravity.
            var oldPx = Vector512.LoadUnsafe(ref px, (nuint)i);
            var oldPy = Vector512.LoadUnsafe(ref py, (nuint)i);
            if (starX.Length > 0)
            {
                var ax = Vector512<double>.Zero;
                var ay = Vector512<double>.Zero;
                for (var k = 0; k < starX.Length; k++)
                {
                    var dx = Vector512.Create(starX[k]) - oldPx;
                    var dy = Vector512.Create(starY[k]) - oldPy;
                    var r2 = Vector512.Max((dx * dx) + (dy * dy), Vector512.Create(min2[k]));
                    var inv = Vector512<double>.One / Vector512.Sqrt(r2);
                    var g = Vector512.Create(mass[k]) * (inv * inv * inv);
                    ax += dx * g;
                    ay += dy * g;
                }
                x += ax * dtv;
                y += ay * dtv;
            }

            // Integrate.
            var newPx = oldPx + (x * dtv);
            var newPy = oldPy + (y * dtv);
            var r = rot + (newAngular * dtf);
            r = Vector256.ConditionalSelect(Vector256.GreaterThan(r, pi), r - twoPi, Vector256.ConditionalSelect(Vector256.LessThanOrEqual(r, -pi), r + twoPi, r));

            Vector512.ConditionalSelect(maskD, x, oldVx).StoreUnsafe(ref vx, (nuint)i);
            Vector512.ConditionalSelect(maskD, y, oldVy).StoreUnsafe(ref vy, (nuint)i);
            Vector512.ConditionalSelect(maskD, newPx, oldPx).StoreUnsafe(ref px, (nuint)i);
            Vector512.ConditionalSelect(maskD, newPy, oldPy).StoreUnsafe(ref py, (nuint)i);
            Vector256.ConditionalSelect(maskF, newAngular, oldAngular).StoreUnsafe(ref angular, (nuint)i);
            Vector256.ConditionalSelect(maskF, r, rot).StoreUnsafe(ref rotation, (nuint)i);

            // Damage.
            if (starX.Length > 0)
            {
                var hits = Vector256<int>.Zero;
                for (var k = 0; k < starX.Length; k++)
                {
                    var dx = Vector512.Create(starX[k]) - newPx;
                    var dy = Vector512.Create(starY[k]) - newPy;
                    var inside = Vector512.LessThan((dx * dx) + (dy * dy), Vector512.Create(damage2[k]));
                    hits -= Narrow(inside.AsInt64());
                }
                hits &= mask32;
                if (hits != Vector256<int>.Zero)
                {
                    ref var h = ref Unsafe.Add(ref hull, i);
                    var oldHull = Vector256.LoadUnsafe(ref h);
                    var hit = Vector256.GreaterThan(hits, Vector256<int>.Zero).AsSingle();
                    var newHull = Vector256.ConditionalSelect(hit, oldHull - (damage * Vector256.ConvertToSingle(hits)), oldHull);
                    newHull.StoreUnsafe(ref h);
                    for (var lane = 0; lane < 8; lane++)
                    {
                        if (hits.GetElement(lane) > 0 && newHull.GetElement(lane) <= 0)
                        {
                            zone.MarkDestroyed(i + lane);
                        }
                    }
                }
            }
        }
        return i;
    }

    private static void ClassLanes(ShipClass[] classes, ulong classBytes, out Vector512<double> maxSpeed, out Vector512<double> thrustAcc, out Vector256<float> turnRate)
    {
        Span<double> max = stackalloc double[8];
        Span<double> thrust = stackalloc double[8];
        Span<float> turn = stackalloc float[8];
        for (var lane = 0; lane < 8; lane++)
        {
            ref readonly var c = ref classes[(int)((classBytes >> (8 * lane)) & 0xFF)];
            max[lane] = c.MaxSpeed;
            thrust[lane] = c.Thrust;
            turn[lane] = c.TurnRate;
        }
        maxSpeed = Vector512.Create<double>(max);
        thrustAcc = Vector512.Create<double>(thrust);
        turnRate = Vector256.Create<float>(turn);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Widen(Vector256<float> v) => Avx512F.ConvertToVector512Double(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<long> Widen(Vector256<int> v) => Avx512F.ConvertToVector512Int64(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Narrow(Vector512<long> v) => Avx512F.ConvertToVector256Int32(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Widen(Vector128<float> v) =>
        Avx.IsSupported ? Avx.ConvertToVector256Double(v) : Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Widen(Vector128<int> v) =>
        Avx2.IsSupported ? Avx2.ConvertToVector256Int64(v) : Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Narrow(Vector256<long> v) => Vector128.Narrow(v.GetLower(), v.GetUpper());
}
