using Sol.Zones.Input;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>Ships and colonies entering and leaving: called by the world between ticks only.</summary>
public sealed partial class Zone
{
    internal bool HasShip(long owner) => _ships.ContainsKey(owner);

    /// <param name="velocity">The ship's velocity (a saved ship's); null: the placement velocity there (<see cref="OrbitVelocityAt"/>).</param>
    /// <param name="searches">
    /// Placement searches this pass may still run (<see cref="ZoneWorld.PlacementSearchesPerTick"/>); one is taken if a
    /// search runs. None left: the quick estimate.
    /// </param>
    /// <param name="fixedPoint">A point ships come back to (a gate): its answer is kept.</param>
    internal EntityHandle AddShip(
        in ShipCarry carry, double x, double y, ZoneEventKind why, ShipAction action, int target, (double Vx, double Vy)? velocity, ref int searches,
        bool fixedPoint = false)
    {
        var s = State;
        var handle = s.Add(EntityKind.Ship, EntityFlags.Dynamic, carry.Owner, 0, x, y);
        s.TryGetIndex(handle, out var i);
        (s.VelocityX[i], s.VelocityY[i]) = velocity ?? OrbitVelocityAt(x, y, _classes[carry.ShipClass].MaxSpeed, ref searches, fixedPoint);
        s.ShipClass[i] = carry.ShipClass;
        s.Hull[i] = carry.Hull;
        s.Rotation[i] = carry.Rotation;
        s.InputSeq[i] = carry.InputSeq;
        _ships.Add(carry.Owner, handle);
        AppendEvent(new ZoneEvent(why, carry.Owner, handle, action, target, RejectReason.None));
        return handle;
    }

    /// <summary>
    /// The velocity a ship is placed with at (<paramref name="x"/>, <paramref name="y"/>) — a join of a record at rest,
    /// an arrival, a take-off, a respawn — so that one left alone circles the system instead of falling into its stars
    /// (helper-63: placed at rest, an idle ship burned about every 100 s, paying the penalty each time). Around one star:
    /// the circular orbit, <c>sqrt(GM / r)</c>, counter-clockwise as the planets go. Around several there is no
    /// circular orbit near them (helper-65: 3 % of the take-offs from inner planets still burned): the candidates are
    /// circular speeds for the pull felt there, both ways round, a little faster or slower, then tilted outward and
    /// faster (wider ellipses), and the first whose path
    /// (the zone's own gravity and damage rule, <see cref="PlacementHorizonSeconds"/> ahead) stays out of every damage
    /// radius is taken, else the one that stays out longest. A search runs a path of up to 12,000 steps per candidate
    /// (about 0.5 ms when the first candidate holds): a pass runs at most <paramref name="searches"/> of them, then the
    /// centre of mass's circular speed is taken as it is (helper-66: 156 take-offs in one tick took 72 ms). Zero on a
    /// surface and with massless stars.
    /// </summary>
    /// <param name="maxSpeed">The ship's top speed: its path is checked as the zone moves it, capped at that speed.</param>
    /// <param name="searches">Searches the caller may still run; decremented when one runs.</param>
    /// <param name="keep">Keep the answer (a gate, the respawn point: points ships come back to).</param>
    internal (double Vx, double Vy) OrbitVelocityAt(double x, double y, double maxSpeed, ref int searches, bool keep)
    {
        double mass = 0, cx = 0, cy = 0;
        for (var k = 0; k < _starMass.Length; k++)
        {
            mass += _starMass[k];
            cx += _starMass[k] * _starX[k];
            cy += _starMass[k] * _starY[k];
        }
        if (!(mass > 0))
        {
            return (0, 0);
        }
        var dx = x - (cx / mass);
        var dy = y - (cy / mass);
        var r = Math.Sqrt((dx * dx) + (dy * dy));
        if (!(r > 0))
        {
            return (0, 0);
        }
        var (ux, uy) = (dx / r, dy / r);
        if (_starMass.Length > 1 && _placements?.TryGetValue((x, y, maxSpeed), out var known) == true)
        {
            return known; // a gate's or the respawn point's, worked out before (whatever the budget)
        }
        if (_starMass.Length == 1 || searches <= 0)
        {
            var v = Math.Sqrt(mass / r);
            return (-uy * v, ux * v);
        }
        searches--;

        // The pull felt here, its part toward the centre of mass: the circular speed for it.
        var (ax, ay) = Pull(x, y);
        var inward = -((ax * ux) + (ay * uy));
        var circular = Math.Sqrt(Math.Max(inward, 0) * r);
        // Tangential first, a little faster or slower, then tilted outward and faster (a wider ellipse, farther from the
        // stars); each counter-clockwise, then clockwise.
        ReadOnlySpan<(double Scale, double Out)> shapes = [(1.0, 0), (1.08, 0), (0.93, 0), (1.16, 0), (1.16, 0.3), (1.25, 0.3), (1.3, 0.6), (0.85, 0), (1.2, 0.9)];
        (double, double) best = (0, 0);
        var longest = -1;
        for (var c = 0; c < 2 * shapes.Length && longest != int.MaxValue; c++)
        {
            var (scale, outward) = shapes[c / 2];
            var turn = c % 2 == 0 ? 1 : -1;
            var (sin, cos) = Math.SinCos(outward);
            var speed = circular * scale;
            // The tangent (-uy, ux) × turn, turned by `outward` radians toward the outside (ux, uy).
            var vx = speed * ((-uy * turn * cos) + (ux * sin));
            var vy = speed * ((ux * turn * cos) + (uy * sin));
            var lasts = TicksOutOfDamage(x, y, vx, vy, maxSpeed);
            if (lasts > longest)
            {
                (best, longest) = ((vx, vy), lasts);
            }
        }
        if (keep)
        {
            _placements ??= [];
            _placements[(x, y, maxSpeed)] = best;
        }
        return best;
    }

    /// <summary>How far ahead a placement in a system of several stars is checked, in simulated seconds.</summary>
    internal const double PlacementHorizonSeconds = 600;

    /// <summary>Ticks a ship left alone from here with this velocity stays out of every damage radius (<see cref="int.MaxValue"/>: the whole horizon).</summary>
    private int TicksOutOfDamage(double x, double y, double vx, double vy, double maxSpeed)
    {
        var dt = _timeStep;
        var ticks = (int)(PlacementHorizonSeconds / dt);
        for (var t = 0; t < ticks; t++)
        {
            var speed2 = (vx * vx) + (vy * vy);
            if (speed2 > maxSpeed * maxSpeed)
            {
                var cut = maxSpeed / Math.Sqrt(speed2); // the control step's cap
                (vx, vy) = (vx * cut, vy * cut);
            }
            var (ax, ay) = Pull(x, y);
            vx += ax * dt;
            vy += ay * dt;
            x += vx * dt;
            y += vy * dt;
            for (var k = 0; k < _starX.Length; k++)
            {
                var (ex, ey) = (_starX[k] - x, _starY[k] - y);
                if ((ex * ex) + (ey * ey) < _starDamage2[k])
                {
                    return t;
                }
            }
        }
        return int.MaxValue;
    }

    private (double Ax, double Ay) Pull(double x, double y) => GravitySystem.Pull(_starX, _starY, _starMass, _starMinDistance2, x, y);

    internal bool TryTakeShip(long owner, EntityHandle expected, ZoneEventKind why, ShipAction action, int target, out ShipCarry carry)
    {
        carry = default;
        if (!_ships.TryGetValue(owner, out var handle) || (expected.IsSome && handle != expected) || !State.TryGetIndex(handle, out var i))
        {
            return false;
        }
        var s = State;
        carry = new ShipCarry(owner, s.ShipClass[i], s.Hull[i], s.Rotation[i], s.InputSeq[i]);
        s.RemoveAt(i);
        _ships.Remove(owner);
        AppendEvent(new ZoneEvent(why, owner, handle, action, target, RejectReason.None));
        return true;
    }

    internal EntityHandle AddColony(long owner, double x, double y) => State.Add(EntityKind.Colony, EntityFlags.None, owner, 0, x, y);

    internal void ClearOutbox() => _outboxCount = 0;

    /// <summary>A zone going to sleep forgets events nobody will read.</summary>
    internal void Sleep()
    {
        IsAwake = false;
        _eventCount = 0;
        _pendingEventCount = 0;
    }

    /// <summary>
    /// Records an event. During the step it goes into this tick's snapshot; between ticks (spawns, removals, transfers)
    /// it waits for the next snapshot, so the one just emitted stays intact for readers.
    /// </summary>
    internal void AppendEvent(in ZoneEvent e)
    {
        if (Volatile.Read(ref _stepping) != 0)
        {
            Push(ref _events, ref _eventCount, e);
        }
        else
        {
            Push(ref _pendingEvents, ref _pendingEventCount, e);
        }
    }

    private void BeginEvents()
    {
        _eventCount = 0;
        for (var n = 0; n < _pendingEventCount; n++)
        {
            Push(ref _events, ref _eventCount, _pendingEvents[n]);
        }
        _pendingEventCount = 0;
    }

    private static void Push(ref ZoneEvent[] buffer, ref int count, in ZoneEvent e)
    {
        if (count == buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(4, buffer.Length * 2));
        }
        buffer[count++] = e;
    }
}
