using System.Net.WebSockets;
using Sol.Core.Galaxy;
using Sol.Persistence.Model;
using Sol.Server.Game.Port;
using Sol.Server.Game.Wire;

namespace Sol.Server.Game;

/// <summary>
/// One player's presence in the game: its connection, its live progress, its ship's owner id in the zone world and
/// the zone it is subscribed to.
/// </summary>
/// <remarks>
/// Thread rules: <see cref="Reader"/>, <see cref="Writer"/>, <see cref="Bucket"/>, <see cref="Requests"/> and <see cref="LastSeq"/> belong to
/// the connection's receive loop. <see cref="Zone"/>, <see cref="Player"/> and <see cref="Phase"/> change only on the
/// scheduler's coordinator, between ticks (zone workers read them during a step).
/// </remarks>
public sealed class GameSession
{
    private readonly TaskCompletionSource _left = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public GameSession(IGameConnection connection, PlayerRecord player, long owner, string clientId, double rate, double burst)
    {
        Connection = connection;
        Player = player;
        Owner = owner;
        ClientId = clientId;
        Bucket = new TokenBucket(rate, burst);
        Requests = new TokenBucket(GameHub.RequestRate, GameHub.RequestBurst);
    }

    /// <summary>The connection now (replaced on resume, by the coordinator).</summary>
    public IGameConnection Connection { get; set; }

    /// <summary>The ship was destroyed outside its home system and is being moved there.</summary>
    public bool Respawning { get; set; }

    /// <summary>
    /// From the step that destroyed the ship outside its home system (a zone thread; again when the coordinator moves
    /// it) until the home system is entered (the coordinator, before its ZoneEnter is sent): the client has not been
    /// told where its ship is, so its travel requests are refused with <c>Destroyed</c> (read by the connection's
    /// thread) rather than judged against a zone it does not know of.
    /// </summary>
    internal volatile bool Relocating;

    /// <summary>While <see cref="SessionPhase.Detached"/>: the tick after which the ship is saved and removed.</summary>
    public long DetachedUntilTick { get; set; }

    /// <summary>The server closed this connection on purpose (replaced, logged out, expired): no resume.</summary>
    internal volatile bool Kicked;

    private WebSocketCloseStatus _kickStatus;
    private string _kickReason = "";

    /// <summary>
    /// Ends the session on purpose: no resume, and its connection is closed with <paramref name="status"/>. Any thread.
    /// </summary>
    internal void Kick(WebSocketCloseStatus status, string reason)
    {
        _kickStatus = status;
        _kickReason = reason;
        Kicked = true; // a volatile write after the reason: whoever sees Kicked sees why
        Connection.Close(status, reason);
    }

    /// <summary>
    /// On the coordinator, for a kicked session still connected: closes the connection it has now, with the kick's code.
    /// A kick from another thread (a logout) can land between a resume's check and its attaching a new connection, and
    /// have closed only the old one; closing the same connection again does nothing.
    /// </summary>
    internal void CloseKickedConnection() => Connection.Close(_kickStatus, _kickReason);

    /// <summary>The current connection has closed (set on its socket thread before the game hears of it).</summary>
    internal volatile bool ConnectionClosed;

    /// <summary>The ship's owner id in the zone world (unique per session in this process).</summary>
    public long Owner { get; }

    /// <summary>The id the client keeps to resume.</summary>
    public string ClientId { get; }

    /// <summary>The player's progress as last saved or updated (the ship's live state is in its zone).</summary>
    public PlayerRecord Player { get; set; }

    /// <summary>The zone whose snapshots this session receives (default while joining).</summary>
    public ZoneId Zone { get; set; }

    public SessionPhase Phase { get; set; } = SessionPhase.Joining;

    public ClientMessageReader Reader { get; } = new();

    public ServerMessageWriter Writer { get; } = new(256);

    internal TokenBucket Bucket;

    /// <summary>The costly requests' own budget (<see cref="GameHub.RequestRate"/>); the receive loop's, as <see cref="Bucket"/>.</summary>
    internal TokenBucket Requests;

    /// <summary>When the session's token expires (moved on by a successful Reauth); ticks of <see cref="DateTimeOffset.UtcTicks"/>.</summary>
    internal long ExpiresAtTicks;

    /// <summary>The last input sequence number received (requests carry it into the zone).</summary>
    public uint LastSeq { get; set; }

    /// <summary>Colonize transactions of this session whose outcome the coordinator has not applied yet (coordinator only).</summary>
    internal int ColonizesInFlight;

    /// <summary>While <see cref="ColonizesInFlight"/> is above 0: completes when their outcomes are applied (coordinator only).</summary>
    internal TaskCompletionSource? ColonizesSettled;

    /// <summary>Completes once the session has left the world and its progress is staged for saving.</summary>
    public Task Left => _left.Task;

    internal void MarkLeft() => _left.TrySetResult();
}
