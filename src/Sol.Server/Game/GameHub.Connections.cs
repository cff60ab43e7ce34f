using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Protocol;
using ZoneKind = Sol.Core.Galaxy.ZoneKind;
using Sol.Server.Game.Port;
using Sol.Server.Game.Wire;
using Sol.Zones.Input;

namespace Sol.Server.Game;

/// <summary>The game's side of each connection: handshake, join, messages, leave.</summary>
public sealed partial class GameHub : IGameHandler
{
    /// <summary>Close code for a connection replaced by a newer one of the same account.</summary>
    public const WebSocketCloseStatus Replaced = (WebSocketCloseStatus)4000;

    /// <summary>Close code for a connection whose token expired and was not refreshed in time.</summary>
    public const WebSocketCloseStatus SessionExpired = (WebSocketCloseStatus)4001;

    /// <summary>Close code (RFC 6455 "Try Again Later") for an arrival that waited too long behind others of its account.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;

    /// <summary>Close code for a connection whose account logged out (<c>POST /api/auth/logout</c>).</summary>
    public const WebSocketCloseStatus LoggedOut = (WebSocketCloseStatus)4002;

    /// <summary>
    /// How long an arrival waits for the ones of the same account ahead of it (each can wait for the session it
    /// replaces to leave: up to 12 s with a colonize in flight on a slow database, usually milliseconds).
    /// </summary>
    internal TimeSpan ArrivalWait { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most an arrival waits in all (its turn, a resume, the leave of the session it replaces, loading its player):
    /// under the transport's idle timeout (30 s), which its handshake is still inside (nothing it sends is read yet).
    /// </summary>
    internal TimeSpan ArrivalBudget { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>The least time an arrival gives the database to load its player, even when its waits used its budget up.</summary>
    private static readonly TimeSpan MinLoadTime = TimeSpan.FromSeconds(2);

    public async Task<HandshakeVerdict> AuthenticateAsync(string? token, string? resumeClientId)
    {
        var check = await _tokens.ValidateAsync(token).ConfigureAwait(false);
        return check.Valid
            ? HandshakeVerdict.Accept(new GameIdentity(check.AccountId, check.SessionId, check.ExpiresAt, resumeClientId))
            : HandshakeVerdict.Refuse(401, $"token rejected: {check.Error}");
    }

    public async Task OnConnectedAsync(IGameConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        // One arrival per account at a time: two tabs opening together would otherwise both replace the same older
        // session, both load the same record and both join, two ships writing one record.
        var account = connection.Identity.AccountId;
        var deadline = DateTime.UtcNow + ArrivalBudget;
        var gate = await EnterAccountAsync(account).ConfigureAwait(false);
        if (gate is null)
        {
            // Several arrivals of this account were ahead of this one (each may wait for the session it replaces).
            connection.Close(TryAgainLater, "other connections of this account are still being set up");
            return;
        }
        try
        {
            await ConnectAsync(connection, deadline).ConfigureAwait(false);
        }
        finally
        {
            LeaveAccount(account, gate, entered: true);
        }
    }

    private async Task ConnectAsync(IGameConnection connection, DateTime deadline)
    {
        var identity = connection.Identity;
        if (_byAccount.TryGetValue(identity.AccountId, out var older))
        {
            if (identity.ResumeClientId == older.ClientId && await TryResumeAsync(older, connection, Left(deadline)).ConfigureAwait(false))
            {
                return;
            }
            // One connection per account: the older one is told why and leaves (its progress is staged) first.
            older.Kick(Replaced, "replaced by a newer connection of this account");
            _detaches.Enqueue(older); // a detached (connectionless) older session leaves through the same path
            try
            {
                // Its leave waits for a colonize in flight (at most 12 s), within what is left of the arrival's budget.
                await older.Left.WaitAsync(Left(deadline)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _log.LogWarning("the replaced session of account {Account} did not leave in time", identity.AccountId);
            }
        }

        // Newest: a state of this player still in the write-behind (its last leave's flush timed out, or is being
        // written) wins over the row. A row read while two or more flushes finished is read again: the first of them may
        // have committed this player's last state after the read began, and is no longer held to compare with.
        Persistence.Model.PlayerRecord? player;
        var left = Left(deadline);
        var loadTime = left > MinLoadTime ? left : MinLoadTime;
        using (var timeout = new CancellationTokenSource(loadTime))
        {
            try
            {
                do
                {
                    var mark = _progress.ReadMark();
                    // WaitAsync too: a store that does not honour the token still lets the arrival go at its time.
                    var loaded = await _players.EnsureAsync(identity.AccountId, timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
                    player = _progress.Newest(loaded, mark);
                }
                while (player is null);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or System.Data.Common.DbException or Persistence.StoreUnavailableException)
            {
                // Not a crash of the connection (1011): the database is slow or away, and the client should come back.
                var reason = e is OperationCanceledException ? $"no answer within {loadTime.TotalSeconds:0.#} s" : e.Message;
                _log.LogWarning("the player of account {Account} could not be loaded ({Reason}); its connection is closed with 1013", identity.AccountId, reason);
                connection.Close(TryAgainLater, "the game's database is not answering; try again later");
                return;
            }
        }
        // The hull the ship will be placed with, so that PlayerState and the ship agree from the first message.
        var shipClass = _world.Options.ShipClasses[ShipClassOf(player)];
        player = player with { Hull = shipClass.HullOnSpawn((float)player.Hull) };
        var session = new GameSession(connection, player, Interlocked.Increment(ref _nextOwner), Guid.NewGuid().ToString("N"), MessageRate, MessageRate * 2)
        {
            ExpiresAtTicks = identity.ExpiresAt.UtcTicks,
        };
        _byConnection[connection.Id] = session;
        _byAccount[identity.AccountId] = session;
        _metrics.ConnectionOpened();

        connection.SendReliable(session.Writer.Welcome(session.ClientId, player.Id.ToString("D"), _clock.UnixNow, _options.TickRate, connection.Protocol));
        SendPlayerState(session, session.Writer);
        _joins.Enqueue(session);
        // Its token was checked at the handshake, seconds ago maybe (this arrival waited for the session it replaces, and
        // for the database): a logout meanwhile found no session of this login to end. It is ended now, as that logout
        // would have (the logout marks the login before it looks for the session, so one of the two sees the other).
        if (_tokens.IsLoggedOut(identity.SessionId))
        {
            EndSession(identity.AccountId, identity.SessionId);
        }
    }

    /// <summary>
    /// Ends the account's session now, as a logout: its connection (if any) is closed with <see cref="LoggedOut"/>, and
    /// its ship is saved and removed at the next pass, with no resume grace. Only a game session opened with a token of
    /// <paramref name="tokenSession"/> (the one logging out; null: whichever). False when there is no such session.
    /// </summary>
    public bool EndSession(Guid accountId, Guid? tokenSession = null)
    {
        if (!_byAccount.TryGetValue(accountId, out var session) || session.Phase is SessionPhase.Leaving or SessionPhase.Left ||
            (tokenSession is { } sid && session.Connection.Identity.SessionId != sid))
        {
            return false;
        }
        session.Kick(LoggedOut, "logged out");
        _detaches.Enqueue(session); // a detached session (no connection) leaves through the same path
        return true;
    }

    /// <summary>The account's gate once it is this arrival's turn; null when that took longer than <see cref="ArrivalWait"/>.</summary>
    private async Task<AccountGate?> EnterAccountAsync(Guid account)
    {
        AccountGate? gate;
        lock (_arriving)
        {
            if (!_arriving.TryGetValue(account, out gate))
            {
                gate = new AccountGate();
                _arriving.Add(account, gate);
            }
            gate.Users++;
        }
        if (await gate.Turn.WaitAsync(ArrivalWait).ConfigureAwait(false))
        {
            return gate;
        }
        LeaveAccount(account, gate, entered: false);
        return null;
    }

    private void LeaveAccount(Guid account, AccountGate gate, bool entered)
    {
        if (entered)
        {
            gate.Turn.Release();
        }
        lock (_arriving)
        {
            if (--gate.Users == 0)
            {
                _arriving.Remove(account);
            }
        }
    }

    /// <summary>Arrivals of one account take turns; the gate lives while anyone uses or waits for it.</summary>
    private sealed class AccountGate
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);

        public int Users { get; set; }
    }

    /// <summary>What is left of an arrival's budget (see <see cref="ArrivalBudget"/>).</summary>
    private static TimeSpan Left(DateTime deadline) => deadline > DateTime.UtcNow ? deadline - DateTime.UtcNow : TimeSpan.Zero;

    /// <summary>
    /// Gives a detached session's living ship to <paramref name="connection"/>: same client id, same ship, a fresh
    /// ZoneEnter. False when the session is no longer detached (it expired, was still connected or was ended) or the
    /// coordinator did not get to it within <paramref name="wait"/> (at most 10 s).
    /// </summary>
    private async Task<bool> TryResumeAsync(GameSession session, IGameConnection connection, TimeSpan wait)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _resumes.Enqueue((session, connection, done));
        try
        {
            if (!await done.Task.WaitAsync(wait < TimeSpan.FromSeconds(10) ? wait : TimeSpan.FromSeconds(10)).ConfigureAwait(false))
            {
                return false;
            }
        }
        catch (TimeoutException)
        {
            // The coordinator did not get to it: a new session instead (the old one is kicked next, so a late resume of
            // it is refused: ApplyResumes).
            return false;
        }
        _byConnection[connection.Id] = session;
        Interlocked.Exchange(ref session.ExpiresAtTicks, connection.Identity.ExpiresAt.UtcTicks);
        _metrics.ConnectionOpened();
        return true;
    }

    public void OnMessage(IGameConnection connection, ReadOnlySequence<byte> message)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_byConnection.TryGetValue(connection.Id, out var session) || session.Kicked)
        {
            return; // a kicked session's connection is closing: nothing it sends is carried out
        }
        _metrics.MessageIn((int)message.Length);
        if (!session.Bucket.TryTake())
        {
            _metrics.RateLimited();
            connection.Close(WebSocketCloseStatus.PolicyViolation, $"more than {MessageRate} messages a second");
            return;
        }
        if (!session.Reader.TryRead(message, out var intent))
        {
            _metrics.BadMessage();
            connection.Close(WebSocketCloseStatus.InvalidPayloadData, "not a valid sol.v1 ClientMessage");
            return;
        }
        if (intent.Kind is ClientIntentKind.Colonize or ClientIntentKind.SetRoute && !session.Requests.TryTake())
        {
            _metrics.RequestThrottled();
            connection.SendReliable(session.Writer.Error(ErrorCode.TooManyRequests, $"too many requests: colonize and route at most {RequestRate} a second"));
            return;
        }
        switch (intent.Kind)
        {
            case ClientIntentKind.Input:
                // The newest number, in the zone's serial order: an older input the zone will ignore must not become the
                // number the engines-off input of a disconnect carries, which the zone would then ignore too (helper-63:
                // seq 1,000,000 with full turn and fire, then seq 1, then a dropped socket left the ship turning and firing).
                if (session.LastSeq == 0 || (int)(intent.Seq - session.LastSeq) >= 0)
                {
                    session.LastSeq = intent.Seq;
                }
                _world.PostInput(new InputCommand(session.Owner, intent.Seq, intent.Thrust, intent.Turn, intent.Fire, ShipAction.None, 0));
                break;
            case ClientIntentKind.Jump or ClientIntentKind.Land or ClientIntentKind.TakeOff when session.Relocating:
                // Its ship burned outside its home system and is on its way there: the request was aimed at a zone the
                // ship has left, and the zone it is in is one the client has not been told of yet (a ZoneEnter follows).
                connection.SendReliable(session.Writer.Error(ErrorCode.Destroyed, "your ship was destroyed and is being moved to your home system; wait for it to enter"));
                break;
            case ClientIntentKind.Jump:
                NotInAZoneYet(session, _world.RequestJump(session.Owner, session.LastSeq, (int)Math.Min(intent.Target, int.MaxValue)));
                break;
            case ClientIntentKind.Land:
                NotInAZoneYet(session, _world.RequestLand(session.Owner, session.LastSeq, (int)Math.Min(intent.Target, int.MaxValue)));
                break;
            case ClientIntentKind.TakeOff:
                NotInAZoneYet(session, _world.RequestTakeOff(session.Owner, session.LastSeq));
                break;
            case ClientIntentKind.Ping:
                connection.SendReliable(session.Writer.Pong(intent.ClientTime, _clock.UnixNow));
                break;
            case ClientIntentKind.Colonize:
                _colonizeRequests.Enqueue(session);
                break;
            case ClientIntentKind.SetRoute:
                SetRoute(session, intent);
                break;
            case ClientIntentKind.Reauth:
                _ = ReauthAsync(session, intent.Token!);
                break;
            default:
                connection.SendReliable(session.Writer.Error(ErrorCode.UnknownMessage, "unknown message type"));
                break;
        }
    }

    /// <summary>A request the world could not take (the ship is not in a zone: before its first ZoneEnter) is answered, not dropped.</summary>
    private static void NotInAZoneYet(GameSession session, bool taken)
    {
        if (!taken)
        {
            session.Connection.SendReliable(session.Writer.Error(ErrorCode.BadRequest, NotInAZoneText));
        }
    }

    private const string NotInAZoneText = "your ship is not in a zone yet: wait for its ZoneEnter";

    public Task OnClosedAsync(IGameConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_byConnection.TryRemove(connection.Id, out var session))
        {
            return Task.CompletedTask;
        }
        _metrics.ConnectionClosed();
        if (!ReferenceEquals(session.Connection, connection))
        {
            return Task.CompletedTask; // an old connection of a resumed session
        }
        session.ConnectionClosed = true;
        if (!session.Kicked && _options.ResumeGrace > TimeSpan.Zero)
        {
            // The ship waits for a resume; the account keeps this session until the grace period ends.
            _detaches.Enqueue(session);
            return Task.CompletedTask;
        }
        // The account keeps it until it has left (MarkLeftThenFlushAsync): a new connection waits for that.
        _leaves.Enqueue(session);
        return Task.CompletedTask;
    }

    private void SetRoute(GameSession session, in ClientIntent intent)
    {
        int[]? route;
        if (intent.Target != 0)
        {
            // A ship on its way home after a burn is planned from there, where it will be (its zone is still the old one).
            var here = session.Relocating || session.Zone.Id == 0 ? session.Player.HomeSystemId
                : session.Zone.Kind == ZoneKind.System ? session.Zone.Id : _galaxy.Planet(session.Zone.Id).SystemId;
            route = GalaxyRoutes.ShortestRoute(_galaxy, here, (int)Math.Min(intent.Target, int.MaxValue));
        }
        else
        {
            route = Array.ConvertAll(intent.Route!, s => (int)Math.Min(s, int.MaxValue));
            if (route.Any(s => s < 1 || s > _galaxy.Systems.Length))
            {
                route = null;
            }
        }
        if (route is null)
        {
            session.Connection.SendReliable(session.Writer.Error(ErrorCode.NoRoute, "no route to that system"));
            return;
        }
        _routes.Enqueue((session, route));
    }

    private async Task ReauthAsync(GameSession session, string token)
    {
        var check = await _tokens.ValidateAsync(token).ConfigureAwait(false);
        if (check.Valid && check.AccountId == session.Connection.Identity.AccountId)
        {
            Interlocked.Exchange(ref session.ExpiresAtTicks, check.ExpiresAt.UtcTicks);
        }
        else
        {
            // This continuation runs on the pool, not the receive loop, so it does not share the session's writer.
            var writer = new ServerMessageWriter(128);
            session.Connection.SendReliable(writer.Error(ErrorCode.TokenRejected, check.Valid ? "token of another account" : $"token rejected: {check.Error}"));
        }
    }

    private void SendPlayerState(GameSession session, ServerMessageWriter writer)
    {
        var p = session.Player;
        var ship = _rules.Ships[ShipClassOf(p)];
        var colonies = _coloniesOf.TryGetValue(p.Id, out var planets) ? planets : [];
        var inventory = p.Inventory.Select(i => (i.Item, i.Quantity)).ToList();
        session.Connection.SendReliable(writer.PlayerState(p.Credits, p.ShipType, (float)p.Hull, (float)ship.Hull, p.HomeSystemId, p.Explored, p.Route, colonies, inventory));
    }
}
