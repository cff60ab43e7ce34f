using System.Net.WebSockets;
using Sol.Core.Galaxy;
using Sol.Protocol;
using ZoneKind = Sol.Core.Galaxy.ZoneKind;
using Sol.Server.Game.Wire;
using Sol.Zones.Scheduling;
using Sol.Zones.Simulation;
using Sol.Zones.Transfers;

namespace Sol.Server.Game;

/// <summary>The tick hooks: snapshots on the workers, subscriptions and progress on the coordinator.</summary>
public sealed partial class GameHub : IZoneStepObserver
{
    /// <summary>On a worker, right after <paramref name="zone"/> stepped: encode once, send to every subscriber.</summary>
    public void OnZoneStepped(Zone zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var channel = _channels[zone.Index];
        var port = Port;
        if (channel is null || channel.Subscribers.Count == 0 || port is null)
        {
            return;
        }
        var snapshot = zone.GetSnapshot();
        var bytes = channel.Snapshots.Encode(snapshot);
        var shared = port.Share(bytes);
        var tick = (ulong)snapshot.Tick;
        foreach (var session in channel.Subscribers)
        {
            uint entity = 0, seq = 0;
            if (zone.TryGetShip(session.Owner, out var ship))
            {
                entity = SnapshotEncoder.WireId(ship.Handle);
                seq = ship.InputSeq;
            }
            var ack = channel.Messages.Ack(tick, entity, seq);
            session.Connection.SendTick(shared, ack);
            _metrics.MessageOut(bytes.Count + ack.Count);
        }
        shared.Release();

        // A refused request is also told to its owner as an Error (the event in the snapshot is for everyone).
        foreach (ref readonly var e in snapshot.Events)
        {
            if (e.Kind == ZoneEventKind.Rejected && _byOwner.TryGetValue(e.Owner, out var owner))
            {
                var code = SnapshotEncoder.RejectCode(e.Reason);
                owner.Connection.SendReliable(channel.Messages.Error(code, RejectText(code)));
            }
        }
    }

    /// <summary>On the coordinator, between ticks: apply transfers, disconnects, joins and player updates.</summary>
    public void OnTickCompleted(long tick)
    {
        ApplyTransfers();
        ApplyLeaves();
        ApplyJoins();
        ApplyRoutes();
        if (tick % _saveEveryTicks == 0)
        {
            StageAllPlaying();
        }
        _metrics.SetPlayersOnline(_byOwner.Count);
    }

    /// <summary>
    /// After the scheduler stopped (shutdown): apply what is queued as a tick would, so every disconnected player's
    /// last state is staged. Only call when no tick runs.
    /// </summary>
    public void ApplyPendingAfterStop()
    {
        ApplyTransfers();
        ApplyLeaves();
        StageAllPlaying();
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
                    case TransferKind.SpawnRejected:
                        session.Connection.Close(WebSocketCloseStatus.InternalServerError, "the ship could not be placed");
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
        session.Phase = SessionPhase.Playing;
        Channel(zone).Subscribers.Add(session);
        var explored = false;
        if (zone.Kind == ZoneKind.System && !session.Player.Explored.Contains(zone.Id))
        {
            session.Player = session.Player with { Explored = [.. session.Player.Explored, zone.Id], Version = session.Player.Version + 1 };
            explored = true;
        }
        var colonies = zone.Kind == ZoneKind.Planet && _colonies.TryGetValue(zone.Id, out var here) ? here : (IReadOnlyList<ColonyView>)[];
        var time = _world.GetZone(zone).Time;
        session.Connection.SendReliable(_coordinatorWriter.ZoneEnter(_galaxy, zone, time, entity, (float)_world.Options.GateRadius, colonies));
        if (explored)
        {
            SendPlayerState(session, _coordinatorWriter);
        }
    }

    private void ApplyLeaves()
    {
        while (_leaves.TryDequeue(out var session))
        {
            session.Phase = SessionPhase.Leaving;
            if (session.Zone != default)
            {
                Channel(session.Zone).Subscribers.Remove(session);
            }
            Stage(session);
            _world.RemoveShip(session.Owner);
            _ = FlushThenMarkLeftAsync(session);
        }
    }

    private async Task FlushThenMarkLeftAsync(GameSession session)
    {
        try
        {
            await _progress.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The database is down: the state stays staged and is written when it is back.
        }
        session.MarkLeft();
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
            var shipClass = Math.Max(0, _rules.ShipIndex(p.ShipType));
            _byOwner[session.Owner] = session;
            if (!_world.SpawnShip(session.Owner, zone, shipClass, p.X, p.Y))
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

    /// <summary>Copies the ship's live state into the player's record and stages it for the write-behind.</summary>
    private void Stage(GameSession session)
    {
        var p = session.Player;
        if (session.Zone != default && _world.TryGetZone(session.Zone, out var zone) && zone.TryGetShip(session.Owner, out var ship))
        {
            p = p with
            {
                Zone = session.Zone,
                X = ship.X,
                Y = ship.Y,
                Vx = ship.VelocityX,
                Vy = ship.VelocityY,
                Rotation = ship.Rotation,
                Hull = ship.Hull,
            };
        }
        session.Player = p with { Version = p.Version + 1, UpdatedAt = DateTimeOffset.UtcNow };
        _progress.Stage(session.Player);
    }

    private static string RejectText(ErrorCode code) => code switch
    {
        ErrorCode.TooFar => "too far away: fly closer first",
        ErrorCode.UnknownTarget => "no such gate or planet here",
        ErrorCode.NotLanded => "not possible here",
        _ => "request refused",
    };
}
