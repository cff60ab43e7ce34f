using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>
/// Step 6: a moving entity strictly inside a star's damage radius loses <see cref="ZoneOptions.StarDamagePerSecond"/>
/// hull per second (per star). A hull that reaches zero marks the entity destroyed; the zone then respawns it.
/// </summary>
internal readonly struct DamageSystem : IZoneSystem
{
    public void Execute(Zone zone, int start, int end)
    {
        var starX = zone.StarX;
        if (starX.Length == 0)
        {
            return;
        }
        var starY = zone.StarY;
        var damage2 = zone.StarDamage2;
        var s = zone.State;
        Debug.Assert(end <= s.Count);
        var damage = (float)(zone.StarDamagePerSecond * zone.TimeStep);
        ref var flags = ref MemoryMarshal.GetArrayDataReference(s.Flags);
        ref var px = ref MemoryMarshal.GetArrayDataReference(s.PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(s.PositionY);
        ref var hull = ref MemoryMarshal.GetArrayDataReference(s.Hull);
        for (var i = start; i < end; i++)
        {
            if ((Unsafe.Add(ref flags, i) & EntityFlags.Dynamic) == 0)
            {
                continue;
            }
            var x = Unsafe.Add(ref px, i);
            var y = Unsafe.Add(ref py, i);
            var hits = 0;
            for (var k = 0; k < starX.Length; k++)
            {
                var dx = starX[k] - x;
                var dy = starY[k] - y;
                if ((dx * dx) + (dy * dy) < damage2[k])
                {
                    hits++;
                }
            }
            if (hits > 0)
            {
                ref var h = ref Unsafe.Add(ref hull, i);
                h -= damage * hits;
                if (h <= 0)
                {
                    zone.MarkDestroyed(i);
                }
            }
        }
    }
}
