using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Protocol;
using ZoneKind = Sol.Core.Galaxy.ZoneKind;
using Sol.Server.Game.Wire;
using Sol.Transport;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using Sol.Zones.Transfers;

namespace Sol.Server.Game;

/// <summary>The tick hooks: snapshots on the workers, subscriptions and progress on the coordinator.</summary>
public sealed partial class GameHub : IZoneStepObserver
{
    /// <summary>On a worker, right after <paramref name="zone"/> stepped: send the snapshot to every subscriber (encoded
    /// once for all, or per subscriber when the zone holds more ships than <see cref="Hosting.ServerOptions.ViewShips"/>).</summary>
    public void OnZoneStepped(Zone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var snapshot = zone.GetSnapshot();
        // A destroyed player ship costs its owner credits and sends it home (applied on the coordinator), whether or
        // not anyone watches the zone: a detached session's ship, or one on its first tick, burns too. A tick that
        // destroys one is not replaceable: its Destroyed event tells the owner why (and what it cost); a later
        // snapshot would not carry it.
        var keep = false;
        foreach (ref readonly var e in snapshot.Events)
        {
            if (e.Kind == ZoneEventKind.Destroyed && e.Owner != 0)
            {
                keep = true;
                if (_byOwner.TryGetValue(e.Owner, out var destroyed))
                {
                    _destroyed.Enqueue(e.Owner);
                    if (zone.Id != ZoneId.ForSystem(destroyed.Player.HomeSystemId))
                    {
                        // Moved home in the coordinator's pass: from now on its requests would reach the home system.
                        destroyed.Relocating = true;
                    }
                }
            }
        }
        var channel = _channels[zone.Index];
        var port = Port;
        if (channel is null || port is null)
        {
            return;
        }
        // What this tick sends to a client (snapshot, ack, an error) goes out in one flush: a writer scheduled by these
        // sends starts only once they are all queued (Sol.Transport's SendBatch; a writer already busy with a slow client
        // is not held, and the ASP.NET port ignores it).
        using var sends = SendBatch.Begin();
        SendSnapshots(zone, snapshot, channel, port, keep);

        // A refused request is also told to its owner as an Error (the event in the snapshot is for everyone), whether
        // or not anyone watches the zone.
        foreach (ref readonly var e in snapshot.Events)
        {
            if (e.Kind == ZoneEventKind.Rejected && _byOwner.TryGetValue(e.Owner, out var owner))
            {
                var code = SnapshotEncoder.RejectCode(e.Reason, e.Action);
                owner.Connection.SendReliable(channel.Messages.Error(code, RejectText(code)));
            }
        }
    }

    private void SendSnapshots(Zone zone, in ZoneSnapshot snapshot, ZoneChannel channel, Port.IGamePort port, bool keep)
    {
        if (channel.Subscribers.Count == 0)
        {
            return;
        }
        var tick = (ulong)snapshot.Tick;
        var viewShips = _options.ViewShips;
        // A zone with few ships: one snapshot, encoded and framed once, the same bytes to every subscriber. A crowded
        // zone: each subscriber gets its ship and the nearest ships, encoded for it (a subscriber without a ship here,
        // between a jump and its arrival, gets the whole zone).
        var crowded = viewShips > 0 && channel.View.Prepare(snapshot.Entities, viewShips) > viewShips;
        var whole = crowded ? default : channel.Snapshots.Encode(snapshot);
        var everyone = crowded ? null : port.Share(whole);
        foreach (var session in channel.Subscribers)
        {
            uint entity = 0, seq = 0;
            var hasShip = zone.TryGetShip(session.Owner, out var ship);
            if (hasShip)
            {
                entity = SnapshotEncoder.WireId(ship.Handle);
                seq = ship.InputSeq;
            }
            var bytes = !crowded ? whole
                : hasShip ? channel.Snapshots.Encode(snapshot, channel.View.Select(ship, viewShips))
                : channel.Snapshots.Encode(snapshot);
            var message = everyone ?? port.Share(bytes);
            var ack = channel.Messages.Ack(tick, entity, seq);
            session.Connection.SendTick(message, ack, keep);
            if (everyone is null)
            {
                message.Release();
            }
            _metrics.MessageOut(bytes.Count + ack.Count);
        }
        everyone?.Release();
    }

    /// <summary>How often a queue-draining step of the stop's last pass runs again after it threw (each time past one item).</summary>
    private const int MaxStepRetriesAtStop = 1000;

    /// <summary>Runs first in each tick's pass, on the coordinator (tests: a pass that throws).</summary>
    internal Action<long>? TickHook { get; set; }

    /// <summary>On the coordinator, between ticks: apply transfers, disconnects, joins and player updates.</summary>
    public void OnTickCompleted(long tick)
    {
        TickHook?.Invoke(tick);
        // A join's zone entry, a resume's welcome, player state and zone entry (and the like) reach their client in one
        // flush.
        using var sends = SendBatch.Begin();
        ApplyTransfers();
        // Before detaches and leaves: a session that leaves in the pass its ship was destroyed leaves with the penalty
        // paid and the ship on its way home, not a ship left in the world with no session.
        ApplyDestroyed();
        ApplyDetaches(tick);
        ApplyLeaves();
        ApplyResumes();
        ApplyJoins();
        ApplyRoutes();
        ApplyColonizeRequests();
        ApplyColonizeResults();
        ExpireDetached(tick);
        if (tick % _options.TickRate == 0)
        {
            CloseExpiredSessions();
        }
        if (tick % _saveEveryTicks == 0)
        {
            // Stage and write at the same cadence, so a crash loses at most one interval of movement (staging on a
            // tick and leaving the write to the writer's own timer could lose almost two).
            StageAllPlaying();
            _ = _progress.FlushAsync();
        }
        _metrics.SetPlayersOnline(_byOwner.Count);
        // Last: the write-behind's paced chunks start now, in the idle part of the tick period.
        _progress.OnTickCompleted();
    }

    /// <summary>
    /// After the scheduler stopped (shutdown): apply what is queued as a tick would, so every disconnected player's
    /// last state is staged. Only call when no tick runs.
    /// </summary>
    public void ApplyPendingAfterStop()
    {
        // Each step on its own: after a game loop failure these run the code that failed, and a step that throws must
        // not keep the others from staging what they can.
        // The steps that drain a queue take an item off before applying it: one that throws is done with, and the step
        // runs again for the items behind it (a bounded number of times).
        Step(ApplyTransfers, drains: true);
        Step(ApplyDestroyed, drains: true); // a ship that burned in the last tick costs its owner and respawns at home in the record
        Step(ApplyColonizeResults, drains: true); // before the leaves stage the records: a founded colony's price is in them
        Step(() => ApplyDetaches(long.MaxValue), drains: true);
        Step(ApplyLeaves, drains: true);
        Step(ApplyRoutes, drains: true);
        Step(() => ExpireDetached(long.MaxValue));
        Step(StageAllPlaying);

        void Step(Action step, bool drains = false)
        {
            for (var failures = 0; ; failures++)
            {
                try
                {
                    step();
                    return;
                }
#pragma warning disable CA1031 // logged; the stop goes on to save what the other steps staged
                catch (Exception e)
#pragma warning restore CA1031
                {
                    if (failures < 3)
                    {
                        _log.LogError(e, "A step of the last pass at the stop failed ({Step}); the others go on", step.Method.Name);
                    }
                    if (!drains || failures >= MaxStepRetriesAtStop)
                    {
                        return;
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="ApplyPendingAfterStop"/>, after waiting up to <paramref name="timeout"/> for the colonize transactions
    /// still in flight: their outcome (credits paid, a colony founded) is then in the last records staged, so the
    /// final save neither drops the player's last position (a staged version no newer than the transaction's) nor
    /// writes back the credits the colony cost (a newer one carrying the old amount). Only call when no tick runs.
    /// Never throws for a transaction's sake, and does not wait while the database is known to be down (a transaction
    /// then waits for the write-behind and cannot finish in time).
    /// </summary>
    public async Task ApplyPendingAfterStopAsync(TimeSpan timeout)
    {
        _colonizing.RemoveAll(static t => t.IsCompleted);
        if (_colonizing.Count > 0)
        {
            if (!_progress.InOutage && timeout > TimeSpan.Zero)
            {
                await Task.WhenAny(Task.WhenAll(_colonizing), Task.Delay(timeout)).ConfigureAwait(false);
            }
            var unfinished = _colonizing.Count(static t => !t.IsCompleted);
            if (unfinished > 0)
            {
                _log.LogWarning(
                    "{Count} colonize transactions were still in flight at the shutdown (database {State}); if one commits now, that player's last position or the colony's price may not be kept",
                    unfinished, _progress.InOutage ? "unreachable" : $"slower than {timeout.TotalSeconds:0.#} s");
            }
            foreach (var failed in _colonizing.Where(static t => t.IsFaulted))
            {
                _log.LogWarning("a colonize transaction failed during the shutdown: {Reason}", failed.Exception!.GetBaseException().Message);
            }
            _colonizing.Clear();
        }
        ApplyPendingAfterStop();
    }

    private void ApplyTransfers()
    {
        int n;
        while ((n = _world.DrainTransfers(_transfers)) > 0)
        {
            for (var i = 0; i < n; i++)
            {
                ref readonly var t = ref _transfers[i];
                if (!_byOwner.TryGetValue(t.Owner, out var session))
                {
                    continue;
                }
                switch (t.Kind)
                {
                    case TransferKind.Spawned:
                        Enter(session, t.To, SnapshotEncoder.WireId(t.Entity));
                        break;
                    case TransferKind.Jump:
                    case TransferKind.Land:
                    case TransferKind.TakeOff:
                        Channel(t.From).Subscribers.Remove(session);
                        Enter(session, t.To, SnapshotEncoder.WireId(t.Entity));
                        // Write-behind at once on a zone change, so a crash right after a jump keeps it.
                        Stage(session);
                        _ = _progress.FlushAsync();
                        break;
                    case TransferKind.Removed when session.Respawning:
                        // Destroyed away from home: the ship is being moved to its home system (Spawned follows).
                        Channel(t.From).Subscribers.Remove(session);
                        session.Respawning = false;
                        break;
                    case TransferKind.Removed:
                        Channel(t.From).Subscribers.Remove(session);
                        _byOwner.Remove(t.Owner);
                        session.Phase = SessionPhase.Left;
                        break;
                }
            }
        }
    }

    private void Enter(GameSession session, ZoneId zone, uint entity)
    {
        session.Zone = zone;
        if (zone == ZoneId.ForSystem(session.Player.HomeSystemId))
        {
            // Home, before any ZoneEnter of it goes out (now, or a resume's): a request made after it is judged here. Not
            // on entering another zone: a ship that burns on its first tick away from home enters there in the same
            // pass that then moves it home.
            session.Relocating = false;
        }
        // Explored whatever the session's phase: a jump can complete after the connection dropped.
        var explored = false;
        if (zone.Kind == ZoneKind.System && !session.Player.Explored.Contains(zone.Id))
        {
            session.Player = session.Player with { Explored = [.. session.Player.Explored, zone.Id], Version = session.Player.Version + 1 };
            explored = true;
        }
        if (session.Phase is SessionPhase.Detached or SessionPhase.Leaving or SessionPhase.Left)
        {
            return; // no connection to tell; a resume sends a fresh ZoneEnter and PlayerState
        }
        session.Phase = SessionPhase.Playing;
        Channel(zone).Subscribers.Add(session);
        SendZoneEnter(session, zone, entity);
        if (explored)
        {
            SendPlayerState(session, _coordinatorWriter);
        }
    }

    private void SendZoneEnter(GameSession session, ZoneId zone, uint entity)
    {
        // A planet zone lists its colonies; a system lists the colonies of all its planets.
        List<ColonyView> colonies = [];
        if (zone.Kind == ZoneKind.Planet)
        {
            if (_colonies.TryGetValue(zone.Id, out var here))
            {
                colonies.AddRange(here);
            }
        }
        else
        {
            foreach (var planet in _galaxy.PlanetsOf(zone.Id))
            {
                if (_colonies.TryGetValue(planet.Id, out var there))
                {
                    colonies.AddRange(there);
                }
            }
        }
        // The world's time now (the tick just done): a zone that slept until this pass has not stepped for a while.
        var time = _world.Options.TimeAt(_world.Tick);
        session.Connection.SendReliable(_coordinatorWriter.ZoneEnter(_galaxy, zone, time, entity, (float)_world.Options.GateRadius, colonies));
    }

    /// <summary>Once a second: connections whose token expired more than the grace ago are closed with 4001.</summary>
    private void CloseExpiredSessions()
    {
        var cutoff = (DateTimeOffset.UtcNow - _options.TokenGrace).UtcTicks;
        foreach (var session in _byOwner.Values)
        {
            if (session.Phase == SessionPhase.Playing && Interlocked.Read(ref session.ExpiresAtTicks) < cutoff)
            {
                session.Kick(SessionExpired, "the session's token expired; log in again");
            }
        }
    }

    private void ApplyDetaches(long tick)
    {
        var graceTicks = (long)Math.Ceiling(_options.ResumeGrace.TotalSeconds * _options.TickRate);
        while (_detaches.TryDequeue(out var session))
        {
            if (session.Phase is SessionPhase.Leaving or SessionPhase.Left)
            {
                continue;
            }
            if (session.Kicked)
            {
                if (session.Phase == SessionPhase.Detached || session.ConnectionClosed)
                {
                    Leave(session);
                }
                else
                {
                    // Still connected: it leaves when its connection closes. A logout that raced a resume closed the old
                    // connection only; this closes the one attached since (a no-op when it is the one already closed).
                    session.CloseKickedConnection();
                }
                continue;
            }
            if (session.Phase == SessionPhase.Detached)
            {
                continue;
            }
            if (session.Zone != default)
            {
                Channel(session.Zone).Subscribers.Remove(session);
            }
            session.Phase = SessionPhase.Detached;
            session.DetachedUntilTick = tick == long.MaxValue ? tick : tick + graceTicks;
            // The pilot is gone: engines off while the ship waits.
            _world.PostInput(new Zones.Input.InputCommand(session.Owner, session.LastSeq, 0, 0, false, Zones.Input.ShipAction.None, 0));
            Stage(session);
            _detached.Add(session);
        }
    }

    private void ExpireDetached(long tick)
    {
        for (var i = _detached.Count - 1; i >= 0; i--)
        {
            var session = _detached[i];
            if (session.Phase != SessionPhase.Detached)
            {
                _detached.RemoveAt(i);
            }
            else if (tick > session.DetachedUntilTick)
            {
                _detached.RemoveAt(i);
                Leave(session);
            }
        }
    }

    private void ApplyResumes()
    {
        while (_resumes.TryDequeue(out var resume))
        {
            var (session, connection, done) = resume;
            if (session.Phase != SessionPhase.Detached || session.Kicked)
            {
                // Not waiting for a resume, or ended meanwhile (a logout, a replacement): the arrival makes a new session.
                done.TrySetResult(false);
                continue;
            }
            ResumeCheckedHook?.Invoke();
            _detached.Remove(session);
            session.Connection = connection;
            session.ConnectionClosed = false;
            connection.SendReliable(_coordinatorWriter.Welcome(session.ClientId, session.Player.Id.ToString("D"), _clock.UnixNow, _options.TickRate, connection.Protocol));
            SendPlayerState(session, _coordinatorWriter);
            if (session.Zone != default && _world.TryGetZone(session.Zone, out var zone) && zone.TryGetShip(session.Owner, out var ship))
            {
                session.Phase = SessionPhase.Playing;
                Channel(session.Zone).Subscribers.Add(session);
                SendZoneEnter(session, session.Zone, SnapshotEncoder.WireId(ship.Handle));
            }
            else
            {
                session.Phase = SessionPhase.Joining; // its spawn is still pending: Enter runs when it applies
            }
            done.TrySetResult(true);
        }
    }

    private void ApplyDestroyed()
    {
        while (_destroyed.TryDequeue(out var owner))
        {
            if (!_byOwner.TryGetValue(owner, out var session))
            {
                continue;
            }
            // The rule: the owner loses rules.destroyedPenalty credits (never below zero) and the ship comes back at
            // full hull at its home system's respawn point (beside its first gate).
            // The record says so at once (home zone, respawn point, full hull; the ship is placed on an orbit there): a player who leaves before the
            // respawn is applied, while no ship can be staged, comes back there, not where the ship burned.
            var p = session.Player;
            var home = _world.GetZone(ZoneId.ForSystem(p.HomeSystemId));
            var shipClass = ShipClassOf(p);
            session.Player = p with
            {
                Credits = Math.Max(0, p.Credits - _rules.DestroyedPenalty),
                Zone = home.Id,
                X = home.RespawnX,
                Y = home.RespawnY,
                Vx = 0,
                Vy = 0,
                Hull = _rules.Ships[shipClass].Hull,
                Version = p.Version + 1,
            };
            if (session.Phase is SessionPhase.Leaving or SessionPhase.Left)
            {
                // A guard, not a path in today's pass order (destroyed before detaches and leaves; a ship whose
                // session left is removed before the next step): its ship is already being removed, nothing to move.
                _progress.Stage(session.Player);
                continue;
            }
            if (session.Zone != home.Id)
            {
                session.Relocating = true; // set by the destroying step already; again here for a ship entered since
                session.Respawning = true;
                _world.RemoveShip(owner);
                _world.SpawnShip(owner, home.Id, shipClass, home.RespawnX, home.RespawnY);
            }
            _progress.Stage(session.Player);
            if (session.Phase == SessionPhase.Playing)
            {
                SendPlayerState(session, _coordinatorWriter);
            }
        }
    }

    private void ApplyColonizeRequests()
    {
        while (_colonizeRequests.TryDequeue(out var session))
        {
            if (session.Phase == SessionPhase.Joining && !session.Kicked)
            {
                session.Connection.SendReliable(_coordinatorWriter.Error(ErrorCode.BadRequest, NotInAZoneText)); // helper-59: no answer before
                continue;
            }
            if (session.Phase != SessionPhase.Playing || session.Kicked)
            {
                continue; // gone, or logged out or replaced since it asked (its connection is closing)
            }
            var me = session.Player.Id.ToString("D");
            ErrorCode refusal;
            if (session.Zone.Kind != ZoneKind.Planet)
            {
                refusal = ErrorCode.NotLanded;
            }
            else if (session.ColonizesInFlight > 0)
            {
                // One transaction at a time per player: each flushes the write-behind and takes a database round trip.
                refusal = ErrorCode.TooManyRequests;
            }
            else if (_colonies.TryGetValue(session.Zone.Id, out var here) && here.Exists(c => c.Owner == me))
            {
                refusal = ErrorCode.AlreadyColonized;
            }
            else if ((here?.Count ?? 0) + _colonizingOn.GetValueOrDefault(session.Zone.Id) >= _rules.ColoniesPerPlanet)
            {
                // Counting the transactions in flight: the limit holds when many land and ask at once. It bounds what a
                // planet puts in every ZoneEnter of its surface and of its system.
                refusal = ErrorCode.PlanetFull;
            }
            else if (session.Player.Credits < _rules.ColonizeCost)
            {
                refusal = ErrorCode.NotEnoughCredits;
            }
            else
            {
                Stage(session);
                if (session.ColonizesInFlight++ == 0)
                {
                    session.ColonizesSettled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                _colonizing.RemoveAll(static t => t.IsCompleted);
                _colonizingOn[session.Zone.Id] = _colonizingOn.GetValueOrDefault(session.Zone.Id) + 1;
                // The colony stands where the ship was when it was asked for (the ship may have left when it is founded).
                double x = 0, y = 0;
                if (_world.TryGetZone(session.Zone, out var zone) && zone.TryGetShip(session.Owner, out var ship) &&
                    double.IsFinite(ship.X) && double.IsFinite(ship.Y))
                {
                    (x, y) = (ship.X, ship.Y); // else the surface's centre: the store refuses a position that is not finite
                }
                _colonizing.Add(ColonizeAsync(session, session.Zone.Id, session.Player.Version, x, y));
                continue;
            }
            if (refusal == ErrorCode.TooManyRequests)
            {
                _metrics.RequestThrottled();
            }
            RefuseColonize(session, refusal);
        }
    }

    /// <summary>
    /// Off the game threads: writes the player's staged state, then takes the credits and founds the colony in one
    /// database transaction (both or neither), and hands the outcome back to the coordinator.
    /// </summary>
    private async Task ColonizeAsync(GameSession session, int planetId, long version, double x, double y)
    {
        Persistence.Model.ColonizeOutcome outcome;
        try
        {
            await _progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            if (_progress.IsRefused(session.Player.Id))
            {
                // The database refuses this player's state, so its row is older than the game's (credits included):
                // the transaction would check and take the credits of that row. No colony until the state goes in.
                _log.LogWarning("colonize of planet {Planet} by player {Player} not tried: the database refuses the player's progress", planetId, session.Player.Id);
                outcome = (Persistence.Model.ColonizeOutcome)(-1);
            }
            else
            {
                outcome = await _store.ColonizeAsync(session.Player.Id, planetId, x, y, _rules.ColonizeCost, DateTimeOffset.UtcNow).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException or Persistence.StoreUnavailableException or System.Data.Common.DbException)
        {
            _log.LogWarning("colonize of planet {Planet} failed: {Reason}", planetId, e.Message);
            outcome = (Persistence.Model.ColonizeOutcome)(-1);
        }
        catch (Exception e)
        {
            // Anything else (a store's bug, a cancellation) is a failed colonize too: without an outcome the planet's
            // place and the player's one-at-a-time slot stayed taken until a restart (helper-60).
            _log.LogError(e, "colonize of planet {Planet} failed", planetId);
            outcome = (Persistence.Model.ColonizeOutcome)(-1);
        }
        _colonizeResults.Enqueue(new ColonizeResult(session, outcome, planetId, version, x, y));
    }

    private void ApplyColonizeResults()
    {
        while (_colonizeResults.TryDequeue(out var result))
        {
            var (session, outcome, planetId, version, x, y) = result;
            try
            {
                ApplyColonizeResult(session, outcome, planetId, version, x, y);
            }
            finally
            {
                if (--_colonizingOn[planetId] == 0)
                {
                    _colonizingOn.Remove(planetId);
                }
                // Settled even when applying it threw: the session's leave waits for this, up to 12 s.
                if (--session.ColonizesInFlight == 0)
                {
                    session.ColonizesSettled!.TrySetResult();
                    session.ColonizesSettled = null;
                }
            }
        }
    }

    private void ApplyColonizeResult(GameSession session, Persistence.Model.ColonizeOutcome outcome, int planetId, long version, double x, double y)
    {
        switch (outcome)
        {
            case Persistence.Model.ColonizeOutcome.Founded:
                // A session that has left (its leave stopped waiting for this outcome after 12 s) may have a successor
                // that loaded the player without the price: the price is taken from that one's record, not staged
                // with the old one's, which would be saved over the successor's (helper-52).
                var payer = session;
                if (session.Phase == SessionPhase.Left && _byAccount.TryGetValue(session.Connection.Identity.AccountId, out var successor) &&
                    successor != session && successor.Player.Id == session.Player.Id)
                {
                    payer = successor;
                }
                var p = payer.Player;
                // The database row is now at (at least) the version staged before the transaction, plus one.
                payer.Player = p with { Credits = Math.Max(0, p.Credits - _rules.ColonizeCost), Version = Math.Max(p.Version, version) + 2 };
                _progress.Stage(payer.Player);
                var colony = new ColonyView(planetId, p.Id.ToString("D"), _clock.Now, (float)x, (float)y);
                if (!_colonies.TryGetValue(planetId, out var list))
                {
                    _colonies[planetId] = list = [];
                }
                list.Add(colony);
                AddColonyOf(p.Id, planetId);
                _world.SpawnColony(payer.Owner, planetId, x, y);
                if (payer.Phase == SessionPhase.Playing)
                {
                    SendPlayerState(payer, _coordinatorWriter);
                }
                TellColony(colony);
                break;
            case Persistence.Model.ColonizeOutcome.NotEnoughCredits:
                RefuseColonize(session, ErrorCode.NotEnoughCredits);
                break;
            case Persistence.Model.ColonizeOutcome.AlreadyColonized:
                RefuseColonize(session, ErrorCode.AlreadyColonized);
                break;
            default:
                RefuseColonize(session, ErrorCode.BadRequest);
                break;
        }
    }

    /// <summary>
    /// A new colony, told to everyone on its planet and in the planet's system: snapshots carry only ships, so this is
    /// how those already there learn of it (those who come later find it in their ZoneEnter).
    /// </summary>
    private void TellColony(in ColonyView colony)
    {
        var planet = ZoneId.ForPlanet(colony.PlanetId);
        var system = ZoneId.ForSystem(_galaxy.Planet(colony.PlanetId).SystemId);
        var bytes = _coordinatorWriter.Colony(colony);
        foreach (var zone in (ReadOnlySpan<ZoneId>)[planet, system])
        {
            if (_channels[_world.IndexOf(zone)] is { } channel)
            {
                foreach (var session in channel.Subscribers)
                {
                    session.Connection.SendReliable(bytes);
                }
            }
        }
    }

    private void RefuseColonize(GameSession session, ErrorCode code) =>
        session.Connection.SendReliable(_coordinatorWriter.Error(code, ColonizeText(code)));

    /// <summary>A colonize transaction's outcome, for the coordinator; <c>X</c>, <c>Y</c>: where the ship was when asked.</summary>
    private readonly record struct ColonizeResult(GameSession Session, Persistence.Model.ColonizeOutcome Outcome, int PlanetId, long Version, double X, double Y);

    private string ColonizeText(ErrorCode code) => code switch
    {
        ErrorCode.TooManyRequests => "a colony of yours is already being founded; wait for it",
        ErrorCode.NotLanded => "land on a planet first",
        ErrorCode.AlreadyColonized => "you already have a colony here",
        ErrorCode.PlanetFull => $"this planet is full: it holds {_rules.ColoniesPerPlanet} colonies at most",
        ErrorCode.NotEnoughCredits => $"a colony costs {_rules.ColonizeCost} credits",
        ErrorCode.BadRequest => "the colony could not be founded now; try again",
        _ => "request refused",
    };

    private void ApplyLeaves()
    {
        while (_leaves.TryDequeue(out var session))
        {
            Leave(session);
        }
    }

    private void Leave(GameSession session)
    {
        if (session.Phase is SessionPhase.Leaving or SessionPhase.Left)
        {
            return;
        }
        session.Phase = SessionPhase.Leaving;
        if (session.Zone != default)
        {
            Channel(session.Zone).Subscribers.Remove(session);
        }
        Stage(session);
        _world.RemoveShip(session.Owner);
        _ = MarkLeftThenFlushAsync(session, session.ColonizesSettled?.Task);
    }

    /// <summary>How long a leave waits for its session's colonize outcome before it is marked left (12 s; tests shorten it).</summary>
    internal TimeSpan LeaveColonizeWait { get; set; } = TimeSpan.FromSeconds(12);

    /// <param name="colonizing">While a colonize of the session is in flight: its outcome applied. A session that
    /// replaces this one loads the player once it has left, and must see the colony's price in the record (before, it
    /// loaded the credits from before the colony and kept them).</param>
    private async Task MarkLeftThenFlushAsync(GameSession session, Task? colonizing)
    {
        if (colonizing is not null)
        {
            try
            {
                await colonizing.WaitAsync(LeaveColonizeWait).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _log.LogWarning("player {Player} left with a colonize still in flight after {Seconds} s; its price goes to the session that follows", session.Player.Id, LeaveColonizeWait.TotalSeconds);
            }
        }
        // Left: its last state (with a colonize's price) is staged, where a new session's load finds it (Newest). Only
        // now is it not the account's session: until here a new connection of the account finds it and waits (before,
        // a session closed without a resume grace, or one whose grace ended, was dropped from the account at once, and
        // a reconnect loaded the player while its colonize was still in flight: a free colony). Not after the flush
        // below: that waits for every staged player's write (helper-49: a reconnect waited seconds on a slow database).
        session.MarkLeft();
        _byAccount.TryRemove(new KeyValuePair<Guid, GameSession>(session.Connection.Identity.AccountId, session));
        try
        {
            await _progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            if (_progress.IsRefused(session.Player.Id))
            {
                _log.LogError(
                    "Player {Player} left with progress the database refuses: it stays in memory and is tried again until the server stops",
                    session.Player.Id);
            }
        }
        catch (Exception e) when (e is TimeoutException or ObjectDisposedException)
        {
            // The database is down: the state stays staged and is written when it is back (or, at shutdown, the
            // write-behind stopped first and said what it could not write).
        }
    }

    private void ApplyJoins()
    {
        while (_joins.TryDequeue(out var session))
        {
            if (session.Phase != SessionPhase.Joining)
            {
                continue;
            }
            var p = session.Player;
            var zone = _world.IndexOf(p.Zone) >= 0 ? p.Zone : ZoneId.ForSystem(p.HomeSystemId);
            var shipClass = ShipClassOf(p);
            _byOwner[session.Owner] = session;
            // The ship comes back where it was saved, with the velocity, hull and heading it had: reconnecting is no repair
            // and no brake (helper-63: it stopped a ship at 420 u/s). A record at rest (a new player's, a respawn's) is
            // placed on the orbit there (Zone.OrbitVelocityAt). (A heading that is not finite as a float would make the
            // spawn fail; not worth refusing the player.)
            var rotation = (float)p.Rotation;
            rotation = float.IsFinite(rotation) ? rotation : 0;
            var (vx, vy) = zone == p.Zone ? (p.Vx, p.Vy) : (0, 0);
            if (!_world.SpawnShip(session.Owner, zone, shipClass, p.X, p.Y, (float)p.Hull, rotation, vx, vy))
            {
                _byOwner.Remove(session.Owner);
                session.Connection.Close(WebSocketCloseStatus.InternalServerError, "the ship could not be placed");
            }
        }
    }

    private void ApplyRoutes()
    {
        while (_routes.TryDequeue(out var update))
        {
            var session = update.Session;
            if (session.Phase is SessionPhase.Leaving or SessionPhase.Left)
            {
                // Its last state is staged and may be loaded by a new session already: a later version of the old one
                // would be saved over that session's first save (helper-52).
                continue;
            }
            session.Player = session.Player with { Route = update.Route, Version = session.Player.Version + 1 };
            _progress.Stage(session.Player);
            SendPlayerState(session, _coordinatorWriter);
        }
    }

    private void StageAllPlaying()
    {
        foreach (var session in _byOwner.Values)
        {
            if (session.Phase == SessionPhase.Playing)
            {
                Stage(session);
            }
        }
    }

    /// <summary>
    /// Copies the ship's live state into the player's record and stages it for the write-behind. A ship on its way home
    /// after being destroyed is not copied: the record already says where it respawns.
    /// </summary>
    private void Stage(GameSession session)
    {
        var p = session.Player;
        if (!session.Respawning && session.Zone != default && _world.TryGetZone(session.Zone, out var zone) && zone.TryGetShip(session.Owner, out var ship))
        {
            p = WithShip(p, session.Zone, ship);
        }
        session.Player = p with { Version = p.Version + 1, UpdatedAt = DateTimeOffset.UtcNow };
        _progress.Stage(session.Player);
    }

    /// <summary>
    /// <paramref name="player"/> with the ship's live state, field by field only where it is a finite number: a value a
    /// simulation bug made NaN or infinite keeps the last good one, so the record (the one every later change builds on:
    /// explored systems, routes, credits) stays one the store can write. The write-behind refuses a non-finite record
    /// as a last line; without this the whole session's later progress would be refused with it.
    /// </summary>
    internal static Persistence.Model.PlayerRecord WithShip(Persistence.Model.PlayerRecord player, ZoneId zone, in Sol.Zones.Simulation.EntityState ship) => player with
    {
        Zone = zone,
        X = double.IsFinite(ship.X) ? ship.X : player.X,
        Y = double.IsFinite(ship.Y) ? ship.Y : player.Y,
        Vx = double.IsFinite(ship.VelocityX) ? ship.VelocityX : player.Vx,
        Vy = double.IsFinite(ship.VelocityY) ? ship.VelocityY : player.Vy,
        Rotation = float.IsFinite(ship.Rotation) ? ship.Rotation : player.Rotation,
        Hull = float.IsFinite(ship.Hull) ? ship.Hull : player.Hull,
    };

    private static string RejectText(ErrorCode code) => code switch
    {
        ErrorCode.TooFar => "too far away: fly closer first",
        ErrorCode.UnknownTarget => "no such gate or planet here",
        ErrorCode.NotLanded => "not landed: take-off is from a planet's surface",
        ErrorCode.AlreadyLanded => "on a planet's surface: take off first",
        ErrorCode.Destroyed => "your ship was destroyed before it could do that",
        _ => "request refused",
    };
}
