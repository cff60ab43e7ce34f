using Sol.Zones.Input;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>Ships and colonies entering and leaving: called by the world between ticks only.</summary>
public sealed partial class Zone
{
    internal bool HasShip(long owner) => _ships.ContainsKey(owner);

    internal EntityHandle AddShip(in ShipCarry carry, double x, double y, ZoneEventKind why, ShipAction action, int target)
    {
        var s = State;
        var handle = s.Add(EntityKind.Ship, EntityFlags.Dynamic, carry.Owner, 0, x, y);
        s.TryGetIndex(handle, out var i);
        (s.VelocityX[i], s.VelocityY[i]) = OrbitVelocityAt(x, y);
        s.ShipClass[i] = carry.ShipClass;
        s.Hull[i] = carry.Hull;
        s.Rotation[i] = carry.Rotation;
        s.InputSeq[i] = carry.InputSeq;
        _ships.Add(carry.Owner, handle);
        AppendEvent(new ZoneEvent(why, carry.Owner, handle, action, target, RejectReason.None));
        return handle;
    }

    /// <summary>
    /// The velocity of a circular orbit through (<paramref name="x"/>, <paramref name="y"/>) around the stars' centre of
    /// mass, counter-clockwise as the planets go: <c>sqrt(GM / r)</c>, GM the stars' together. A ship is placed with it
    /// (a join, an arrival, a take-off, a respawn), so that one left alone circles the system instead of falling into
    /// its stars (helper-63: an idle ship burned about every 100 s, paying the penalty each time). Zero on a surface,
    /// with massless stars, and at the centre itself.
    /// </summary>
    internal (double Vx, double Vy) OrbitVelocityAt(double x, double y)
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
        var v = Math.Sqrt(mass / r);
        return (-dy / r * v, dx / r * v);
    }

    internal void SetVelocity(EntityHandle handle, double vx, double vy)
    {
        if (State.TryGetIndex(handle, out var i))
        {
            (State.VelocityX[i], State.VelocityY[i]) = (vx, vy);
        }
    }

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
            Array.Resize(ref buffer, buffer.Length * 2);
        }
        buffer[count++] = e;
    }
}
