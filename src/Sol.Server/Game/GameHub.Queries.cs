using Sol.Persistence.Model;

namespace Sol.Server.Game;

/// <summary>Read-only questions about live sessions, for the HTTP API (<c>GET /api/me</c>).</summary>
public sealed partial class GameHub
{
    /// <summary>
    /// The player of <paramref name="accountId"/>'s session as the game last staged it (ship position and zone are
    /// copied from the zone every <c>--snapshot-interval</c>), its client id and its phase (playing, detached…);
    /// null when the account has no session.
    /// </summary>
    public (PlayerRecord Player, string ClientId, SessionPhase Phase)? LivePlayer(Guid accountId) =>
        _byAccount.TryGetValue(accountId, out var session) ? (session.Player, session.ClientId, session.Phase) : null;
}
