using System.Runtime.InteropServices;
using Google.FlatBuffers;
using Sol.Core.Galaxy;
using Sol.Protocol;
using Sol.Zones.Simulation;
using Sol.Zones.State;
using ZoneFlags = Sol.Zones.State.EntityFlags;
using ZoneEntityKind = Sol.Zones.State.EntityKind;
using ZoneEventStruct = Sol.Zones.Simulation.ZoneEvent;

namespace Sol.Server.Game.Wire;

/// <summary>
/// Encodes a zone's snapshot: every moving ship (players and NPCs) as a 32-byte <c>EntityState</c> struct and every
/// event as a 16-byte <c>ZoneEvent</c>, written straight into the builder's vectors (structs, no tables, no strings), so
/// encoding allocates nothing once the buffers have grown. The fixed bodies (stars, planets on their closed-form
/// orbits, gates, colonies) are not sent: a client has them from ZoneEnter, and new colonies from ColonyInfo messages.
/// The ships' wire rows are written once per tick and copied into the vector as one block (the whole zone) or row by
/// row (one client's view), so encoding a view per client costs a copy of the rows it holds, not a re-encoding. One
/// encoder per zone: a zone is stepped by one worker at a time.
/// </summary>
/// <param name="destroyedPenalty">Credits a player's ship costs its owner when destroyed (rules.json).</param>
/// <param name="initialSize">The builder's first buffer size.</param>
/// <param name="stars">
/// The zone's stars: a ship strictly inside a star's damage radius has the <c>Burning</c> flag (the zone's damage rule,
/// on the same positions). None on a surface.
/// </param>
/// <param name="creditsOf">
/// An owner's credits before this tick's penalty (null: unknown, the penalty is reported whole): a <c>Destroyed</c>
/// event's value is what its owner loses, the penalty but never more than it has (helper-63).
/// </param>
public sealed class SnapshotEncoder(float destroyedPenalty = 0, int initialSize = 4096, ReadOnlySpan<Star> stars = default, Func<long, long>? creditsOf = null)
{
    private readonly (double X, double Y, double Damage2)[] _stars = StarCircles(stars);

    private readonly FlatBufferBuilder _builder = new(initialSize);
    private byte[] _rows = new byte[64 * WireEntityRow.Size];
    private byte[] _view = new byte[64 * WireEntityRow.Size];
    private int[] _rowOf = new int[64]; // entity index -> its row in _rows (this tick's; -1: a fixed body, no row)
    private int _rowsLength;
    private long _rowsTick = -1;
    private int _rowsCount = -1;

    /// <summary>The whole snapshot: every moving ship and every event.</summary>
    public ArraySegment<byte> Encode(ZoneSnapshot snapshot) => Encode(snapshot, default, all: true);

    /// <summary>The snapshot as one client sees it: only the ships at <paramref name="only"/> (indices into the
    /// snapshot's entities, in any order; a fixed body among them is left out), and every event.</summary>
    public ArraySegment<byte> Encode(ZoneSnapshot snapshot, ReadOnlySpan<int> only) => Encode(snapshot, only, all: false);

    private ArraySegment<byte> Encode(ZoneSnapshot snapshot, ReadOnlySpan<int> only, bool all)
    {
        var b = _builder;
        b.Clear();
        var events = snapshot.Events;
        Sol.Protocol.Snapshot.StartEventsVector(b, events.Length);
        for (var i = events.Length - 1; i >= 0; i--)
        {
            ref readonly var e = ref events[i];
            var (kind, code) = Map(e);
            // A player ship's Destroyed event carries what its owner pays: the rule's penalty, at most its credits; NPCs
            // pay nothing.
            var value = kind == EventKind.Destroyed && e.Owner != 0 ? Lost(e.Owner) : 0;
            // The zone does not say which star burned a ship, so a Destroyed event names no cause.
            var other = kind == EventKind.Destroyed ? 0u : (uint)e.Target;
            Sol.Protocol.ZoneEvent.CreateZoneEvent(b, WireId(e.Entity), other, value, kind, (byte)code, 0);
        }
        var eventVector = b.EndVector();

        var rows = Rows(snapshot);
        ArraySegment<byte> block;
        if (all)
        {
            block = new ArraySegment<byte>(_rows, 0, rows.Length);
        }
        else
        {
            var needed = only.Length * WireEntityRow.Size;
            if (_view.Length < needed)
            {
                _view = new byte[Math.Max(needed, _view.Length * 2)];
            }
            var length = 0;
            foreach (var index in only)
            {
                var row = _rowOf[index];
                if (row >= 0)
                {
                    rows.Slice(row * WireEntityRow.Size, WireEntityRow.Size).CopyTo(_view.AsSpan(length));
                    length += WireEntityRow.Size;
                }
            }
            block = new ArraySegment<byte>(_view, 0, length);
        }
        Sol.Protocol.Snapshot.StartEntitiesVector(b, block.Count / WireEntityRow.Size);
        if (block.Count > 0)
        {
            b.Put(block); // StartEntitiesVector has aligned and made room for the rows
        }
        var entityVector = b.EndVector();

        var kindOnWire = snapshot.Zone.Kind == Core.Galaxy.ZoneKind.System ? Sol.Protocol.ZoneKind.System : Sol.Protocol.ZoneKind.Planet;
        var table = Sol.Protocol.Snapshot.CreateSnapshot(b, (ulong)snapshot.Tick, snapshot.Time, kindOnWire, (uint)snapshot.Zone.Id, entityVector, eventVector);
        b.Finish(ServerMessage.CreateServerMessage(b, ServerPayload.Snapshot, table.Value).Value);
        var buffer = b.DataBuffer;
        return buffer.ToArraySegment(buffer.Position, buffer.Length - buffer.Position);
    }

    /// <summary>This tick's wire rows of the moving ships, written on the first encode of the tick.</summary>
    private ReadOnlySpan<byte> Rows(ZoneSnapshot snapshot)
    {
        var entities = snapshot.Entities;
        if (_rowsTick == snapshot.Tick && _rowsCount == entities.Length)
        {
            return _rows.AsSpan(0, _rowsLength);
        }
        var most = entities.Length * WireEntityRow.Size;
        if (_rows.Length < most)
        {
            _rows = new byte[Math.Max(most, _rows.Length * 2)];
        }
        if (_rowOf.Length < entities.Length)
        {
            _rowOf = new int[Math.Max(entities.Length, _rowOf.Length * 2)];
        }
        var rows = MemoryMarshal.Cast<byte, WireEntityRow>(_rows.AsSpan(0, most));
        var count = 0;
        for (var i = 0; i < entities.Length; i++)
        {
            ref readonly var s = ref entities[i];
            if (s.Kind is not (ZoneEntityKind.Ship or ZoneEntityKind.Npc))
            {
                _rowOf[i] = -1;
                continue;
            }
            var flags = (s.Flags & ZoneFlags.Firing) != 0 ? (byte)Sol.Protocol.EntityFlags.Firing : (byte)0;
            if ((s.Flags & ZoneFlags.Thrusting) != 0)
            {
                flags |= (byte)Sol.Protocol.EntityFlags.Thrusting;
            }
            if (Burning(s.X, s.Y)) // a ship or an NPC: the only rows written
            {
                flags |= (byte)Sol.Protocol.EntityFlags.Burning;
            }
            _rowOf[i] = count;
            rows[count++] = new WireEntityRow(
                (float)s.X, (float)s.Y, (float)s.VelocityX, (float)s.VelocityY, s.Rotation, s.Hull,
                WireId(s.Handle), (byte)s.Kind, flags, s.ShipClass, 0);
        }
        _rowsTick = snapshot.Tick;
        _rowsCount = entities.Length;
        _rowsLength = count * WireEntityRow.Size;
        return _rows.AsSpan(0, _rowsLength);
    }

    private float Lost(long owner) => creditsOf is null ? destroyedPenalty : Math.Min(destroyedPenalty, Math.Max(0, creditsOf(owner)));

    /// <summary>Inside a star's damage radius, strictly: where the zone's damage step burns a ship.</summary>
    private bool Burning(double x, double y)
    {
        foreach (var (sx, sy, damage2) in _stars)
        {
            var (dx, dy) = (sx - x, sy - y);
            if ((dx * dx) + (dy * dy) < damage2)
            {
                return true;
            }
        }
        return false;
    }

    private static (double X, double Y, double Damage2)[] StarCircles(ReadOnlySpan<Star> stars)
    {
        var circles = new (double X, double Y, double Damage2)[stars.Length];
        for (var i = 0; i < stars.Length; i++)
        {
            circles[i] = (stars[i].X, stars[i].Y, stars[i].DamageRadius * stars[i].DamageRadius);
        }
        return circles;
    }

    /// <summary>An entity handle on the wire: the slot in the low 20 bits, the generation's low 12 bits above.</summary>
    public static uint WireId(EntityHandle handle) => ((uint)(handle.Generation & 0xFFF) << 20) | (uint)(handle.Slot & 0xFFFFF);

    private static (EventKind Kind, ErrorCode Code) Map(in ZoneEventStruct e) => e.Kind switch
    {
        ZoneEventKind.Destroyed => (EventKind.Destroyed, ErrorCode.None),
        ZoneEventKind.Respawned => (EventKind.Respawned, ErrorCode.None),
        ZoneEventKind.Departed => (e.Action switch
        {
            Zones.Input.ShipAction.Land => EventKind.Landed,
            Zones.Input.ShipAction.TakeOff => EventKind.TookOff,
            _ => EventKind.Jumped,
        }, ErrorCode.None),
        ZoneEventKind.Arrived => (EventKind.Arrived, ErrorCode.None),
        ZoneEventKind.Rejected => (EventKind.Rejected, RejectCode(e.Reason, e.Action)),
        ZoneEventKind.Colonized => (EventKind.Colonized, ErrorCode.None),
        ZoneEventKind.Spawned => (EventKind.Joined, ErrorCode.None),
        ZoneEventKind.Removed => (EventKind.Left, ErrorCode.None),
        _ => (EventKind.None, ErrorCode.None),
    };

    /// <summary>The code a refusal of <paramref name="action"/> is told with.</summary>
    public static ErrorCode RejectCode(RejectReason reason, Zones.Input.ShipAction action) => reason switch
    {
        RejectReason.TooFar => ErrorCode.TooFar,
        RejectReason.UnknownTarget => ErrorCode.UnknownTarget,
        // A take-off in space is NotLanded; a jump or landing from a surface is AlreadyLanded (it was NotLanded too).
        RejectReason.WrongZone => action == Zones.Input.ShipAction.TakeOff ? ErrorCode.NotLanded : ErrorCode.AlreadyLanded,
        RejectReason.Destroyed => ErrorCode.Destroyed,
        _ => ErrorCode.BadRequest,
    };
}
