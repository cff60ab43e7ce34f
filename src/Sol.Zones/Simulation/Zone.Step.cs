using Sol.Core.Galaxy;
using Sol.Zones.Input;
using Sol.Zones.State;
using Sol.Zones.Transfers;

namespace Sol.Zones.Simulation;

/// <summary>The step: the fixed order of systems that advances a zone by one tick.</summary>
public sealed partial class Zone
{
    /// <summary>
    /// Advances the zone to <paramref name="tick"/> (time <c>tick / TickRate</c>). The order is fixed:
    /// 1 drain inbox, 2 control, 3 orbits, 4 gravity, 5 integrate, 6 damage (+ destroyed/respawn), 7 triggers,
    /// 8 NPC patrols, 9 snapshot. Steps 2, 4, 5 and 6 only read and write an entity's own columns plus the fixed stars,
    /// so they run chunk by chunk (1,024 entities through all four, then the next chunk) while the chunk is in cache,
    /// fused and four entities at a time in <see cref="MotionSystem"/>; per entity the order is exactly 2-4-5-6. Orbits (3) touch only planets, which no per-entity system reads.
    /// Allocates nothing unless a buffer must grow past its largest size so far.
    /// </summary>
    internal void Step(long tick)
    {
        if (Interlocked.Exchange(ref _stepping, 1) != 0)
        {
            ThrowHelper.ThrowInvalidOperation($"zone {Id} is being stepped by two threads at once");
        }
        try
        {
            Tick = tick;
            Time = _options.TimeAt(tick);
            BeginEvents();
            DrainInbox();

            UpdateOrbits();
            var count = State.Count;
            if (_snapshot.Length < count)
            {
                _snapshot = new EntityState[State.Capacity];
            }
            for (var start = 0; start < count; start += Chunk)
            {
                var end = Math.Min(count, start + Chunk);
                if (ScalarMotion)
                {
                    Run<ControlSystem>(start, end);
                    Run<GravitySystem>(start, end);
                    Run<IntegrateSystem>(start, end);
                    Run<DamageSystem>(start, end);
                }
                else
                {
                    Run<MotionSystem>(start, end);
                }
                // Step 9, first part: the chunk's snapshot rows while the chunk is in cache (see EmitSnapshot).
                State.CopyTo(_snapshot, start, end, streaming: count >= ZoneState.StreamingRows);
            }
            _snapshotCount = count;
            HandleDestroyed();
            RunTriggers();
            SteerNpcs();
            EmitSnapshot();
        }
        finally
        {
            Volatile.Write(ref _stepping, 0);
        }
    }

    /// <summary>
    /// Runs steps 2, 4, 5 and 6 through the scalar reference systems instead of the 4-wide <see cref="MotionSystem"/>
    /// (same bits either way; tests compare the two).
    /// </summary>
    internal bool ScalarMotion { get; set; }

    /// <summary>Keeps <see cref="MotionSystem"/> at four entities at a time even where AVX-512 allows eight (tests compare the two).</summary>
    internal bool NarrowMotion { get; set; }

    internal void MarkDestroyed(int index)
    {
        if (_destroyedCount == _destroyed.Length)
        {
            Array.Resize(ref _destroyed, Math.Max(4, _destroyed.Length * 2));
        }
        _destroyed[_destroyedCount++] = index;
    }

    private void Run<T>(int start, int end)
        where T : struct, IZoneSystem => default(T).Execute(this, start, end);

    /// <summary>Step 1: latest steering input per ship wins (by sequence number, then arrival); requests stick until
    /// evaluated and change no steering.</summary>
    private void DrainInbox()
    {
        var s = State;
        while (Inbox.TryDequeue(out var input))
        {
            if (!_ships.TryGetValue(input.Owner, out var handle) || !s.TryGetIndex(handle, out var i))
            {
                _unroutableInputs++;
                continue;
            }
            if (input.Action != ShipAction.None)
            {
                // A request is asked once, carries the number of its pilot's last input, and steers nothing: it is
                // taken even behind a newer input of the same pilot (a full inbox moves requests back behind newer ones).
                if (s.Request[i] == ShipAction.None)
                {
                    if (_requestCount == _requests.Length)
                    {
                        Array.Resize(ref _requests, Math.Max(4, _requests.Length * 2));
                    }
                    _requests[_requestCount++] = handle;
                }
                s.Request[i] = input.Action;
                s.RequestTarget[i] = input.Target;
                if (!Older(input.Seq, s.InputSeq[i]))
                {
                    s.InputSeq[i] = input.Seq;
                }
                continue;
            }
            if (Older(input.Seq, s.InputSeq[i]))
            {
                _staleInputs++;
                continue;
            }
            s.InputSeq[i] = input.Seq;
            s.ThrustInput[i] = float.IsFinite(input.Thrust) ? Math.Clamp(input.Thrust, -1f, 1f) : 0f;
            s.TurnInput[i] = float.IsFinite(input.Turn) ? Math.Clamp(input.Turn, -1f, 1f) : 0f;
            var flags = input.Fire ? s.Flags[i] | EntityFlags.Firing : s.Flags[i] & ~EntityFlags.Firing;
            s.Flags[i] = s.ThrustInput[i] != 0 ? flags | EntityFlags.Thrusting : flags & ~EntityFlags.Thrusting;
        }
    }

    /// <summary>
    /// Whether input number <paramref name="seq"/> comes before <paramref name="last"/>, the ship's last, in serial
    /// order (RFC 1982: numbers wrap at 2^32, and a page's first number is anywhere in that range); 0 means no input yet.
    /// </summary>
    private static bool Older(uint seq, uint last) => last != 0 && (int)(seq - last) < 0;

    /// <summary>Step 3: every planet at its closed-form position (and velocity) for this tick's time.</summary>
    private void UpdateOrbits()
    {
        var s = State;
        for (var p = 0; p < _planets.Length; p++)
        {
            if (!s.TryGetIndex(_planetHandles[p], out var i))
            {
                continue;
            }
            ref readonly var planet = ref _planets[p];
            var (x, y) = planet.PositionAt(Time);
            var omega = 2 * Math.PI / planet.Period;
            s.PositionX[i] = x;
            s.PositionY[i] = y;
            s.VelocityX[i] = -omega * y;
            s.VelocityY[i] = omega * x;
        }
    }

    /// <summary>Step 6, second half: each destroyed ship gets an event and respawns at the zone's respawn point.</summary>
    private void HandleDestroyed()
    {
        var s = State;
        for (var d = 0; d < _destroyedCount; d++)
        {
            var i = _destroyed[d];
            var handle = s.HandleAt(i);
            AppendEvent(new ZoneEvent(ZoneEventKind.Destroyed, s.Owner[i], handle, ShipAction.None, 0, RejectReason.None));
            s.PositionX[i] = RespawnX;
            s.PositionY[i] = RespawnY;
            var search = 1; // the respawn point's answer is kept: one search per ship class, ever
            (s.VelocityX[i], s.VelocityY[i]) = OrbitVelocityAt(RespawnX, RespawnY, _classes[s.ShipClass[i]].MaxSpeed, ref search, keep: true); // at rest it would fall in again
            s.AngularVelocity[i] = 0;
            s.Hull[i] = _classes[s.ShipClass[i]].Hull;
            s.Flags[i] |= EntityFlags.Respawned;
            // A pending request dies with the ship (the trigger system skips it), and its owner is told.
            if (s.Request[i] != ShipAction.None)
            {
                AppendEvent(new ZoneEvent(ZoneEventKind.Rejected, s.Owner[i], handle, s.Request[i], s.RequestTarget[i], RejectReason.Destroyed));
                s.Request[i] = ShipAction.None;
                s.RequestTarget[i] = 0;
            }
            if (s.Kind[i] == EntityKind.Npc)
            {
                var k = s.Ref[i];
                (_npcWaypointX[k], _npcWaypointY[k]) = NextPatrolPoint();
            }
            AppendEvent(new ZoneEvent(ZoneEventKind.Respawned, s.Owner[i], handle, ShipAction.None, 0, RejectReason.None));
        }
        // _destroyed is kept until the snapshot, which clears the Respawned flags it set.
    }

    /// <summary>
    /// Step 7: evaluate each jump, landing and take-off request once, in slot order (so that the order does not depend
    /// on which producer thread won the race into the inbox). Accepted ones go to the outbox; the world applies them
    /// between ticks.
    /// </summary>
    private void RunTriggers()
    {
        var requests = _requests.AsSpan(0, _requestCount);
        SortBySlot(requests);
        var s = State;
        foreach (var handle in requests)
        {
            if (!s.TryGetIndex(handle, out var i) || s.Request[i] == ShipAction.None)
            {
                continue;
            }
            var action = s.Request[i];
            var target = s.RequestTarget[i];
            s.Request[i] = ShipAction.None;
            s.RequestTarget[i] = 0;
            var reason = Evaluate(i, action, target, out var to, out var kind);
            if (reason == RejectReason.None)
            {
                s.Flags[i] |= EntityFlags.Departing;
                if (_outboxCount == _outbox.Length)
                {
                    Array.Resize(ref _outbox, Math.Max(4, _outbox.Length * 2));
                }
                _outbox[_outboxCount++] = new PendingTransfer(handle, s.Owner[i], kind, to, target);
            }
            else
            {
                AppendEvent(new ZoneEvent(ZoneEventKind.Rejected, s.Owner[i], handle, action, target, reason));
            }
        }
        _requestCount = 0;
    }

    private RejectReason Evaluate(int i, ShipAction action, int target, out ZoneId to, out TransferKind kind)
    {
        var s = State;
        to = default;
        kind = default;
        switch (action)
        {
            case ShipAction.Jump:
                if (Id.Kind != ZoneKind.System)
                {
                    return RejectReason.WrongZone;
                }
                foreach (ref readonly var gate in _gates.AsSpan())
                {
                    if (gate.Id == target)
                    {
                        var dx = gate.X - s.PositionX[i];
                        var dy = gate.Y - s.PositionY[i];
                        if ((dx * dx) + (dy * dy) > _options.GateRadius * _options.GateRadius)
                        {
                            return RejectReason.TooFar;
                        }
                        to = ZoneId.ForSystem(gate.TargetSystemId);
                        kind = TransferKind.Jump;
                        return RejectReason.None;
                    }
                }
                return RejectReason.UnknownTarget;
            case ShipAction.Land:
                if (Id.Kind != ZoneKind.System)
                {
                    return RejectReason.WrongZone;
                }
                for (var p = 0; p < _planets.Length; p++)
                {
                    if (_planets[p].Id == target && s.TryGetIndex(_planetHandles[p], out var pi))
                    {
                        var dx = s.PositionX[pi] - s.PositionX[i];
                        var dy = s.PositionY[pi] - s.PositionY[i];
                        var reach = _planets[p].Radius + _options.LandingMargin;
                        if ((dx * dx) + (dy * dy) > reach * reach)
                        {
                            return RejectReason.TooFar;
                        }
                        to = ZoneId.ForPlanet(target);
                        kind = TransferKind.Land;
                        return RejectReason.None;
                    }
                }
                return RejectReason.UnknownTarget;
            case ShipAction.TakeOff:
                if (Id.Kind != ZoneKind.Planet)
                {
                    return RejectReason.WrongZone;
                }
                to = ZoneId.ForSystem(_surfaceOf.SystemId);
                kind = TransferKind.TakeOff;
                return RejectReason.None;
            default:
                return RejectReason.UnknownAction;
        }
    }

    /// <summary>Step 8: each NPC steers toward its waypoint and picks the next one (from the zone's seeded stream) on arrival.</summary>
    private void SteerNpcs()
    {
        const double ArriveDistance = 250;
        var s = State;
        for (var k = 0; k < _npcHandles.Length; k++)
        {
            if (!s.TryGetIndex(_npcHandles[k], out var i))
            {
                continue;
            }
            var dx = _npcWaypointX[k] - s.PositionX[i];
            var dy = _npcWaypointY[k] - s.PositionY[i];
            if ((dx * dx) + (dy * dy) < ArriveDistance * ArriveDistance)
            {
                (_npcWaypointX[k], _npcWaypointY[k]) = NextPatrolPoint();
                dx = _npcWaypointX[k] - s.PositionX[i];
                dy = _npcWaypointY[k] - s.PositionY[i];
            }
            var off = Math.Atan2(dy, dx) - s.Rotation[i];
            off -= 2 * Math.PI * Math.Round(off / (2 * Math.PI));
            s.TurnInput[i] = (float)Math.Clamp(off * 2, -1, 1);
            s.ThrustInput[i] = Math.Abs(off) < 0.5 ? 1f : 0.1f;
        }
    }

    /// <summary>Step 9: finish the snapshot (tick, time, entity rows, events) in the reusable buffers.</summary>
    private void EmitSnapshot()
    {
        // The rows were written chunk by chunk right after motion, so that the columns are read from memory once per
        // tick, not twice (measured: about a third of the step at 1M entities). Only steps 6 (respawn), 7 (the
        // Departing flag) and the arrivals of this step change snapshot columns after that; their rows are rewritten.
        // Step 8 (NPCs) writes only input columns, which the snapshot does not carry.
        var s = State;
        for (var d = 0; d < _destroyedCount; d++)
        {
            var i = _destroyed[d];
            s.CopyTo(_snapshot, i, i + 1);
            // The respawn flag is reported in this one snapshot, then cleared.
            s.Flags[i] &= ~EntityFlags.Respawned;
        }
        _destroyedCount = 0;
        foreach (ref readonly var t in Outbox)
        {
            if (s.TryGetIndex(t.Entity, out var i))
            {
                s.CopyTo(_snapshot, i, i + 1);
            }
        }
    }

    /// <summary>
    /// Insertion sort by slot: requests per tick are few, and <c>Span.Sort</c> with a comparer boxes it (measured:
    /// the allocation test caught it).
    /// </summary>
    private static void SortBySlot(Span<EntityHandle> handles)
    {
        for (var i = 1; i < handles.Length; i++)
        {
            var item = handles[i];
            var j = i - 1;
            while (j >= 0 && handles[j].Slot > item.Slot)
            {
                handles[j + 1] = handles[j];
                j--;
            }
            handles[j + 1] = item;
        }
    }
}
