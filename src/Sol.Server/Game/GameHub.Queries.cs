using Sol.Persistence.Model;

namespace Sol.Server.Game;

/// <summary>Read-only questions about live sessions, for the HTTP API (<c>GET /api/me</c>).</summary>
public sealed partial class GameHub
{
    /// <summary>
    /// The player of <paramref name="accountId"/>'s session as the game last staged it (ship position and zone are
    /// copied from the zone every <c>--snapshot-interval</c>), its client id and its phase (playing, detached…);
    /// null when the account has no session (or only one that is leaving).
    /// </summary>
    public (PlayerRecord Player, string ClientId, SessionPhase Phase)? LivePlayer(Guid accountId) =>
        _byAccount.TryGetValue(accountId, out var session) && session.Phase is not (SessionPhase.Leaving or SessionPhase.Left)
            ? (session.Player, session.ClientId, session.Phase)
            : null;

    /// <summary>Colonize transactions started and not finished (tests; the coordinator's thread).</summary>
    internal int ColonizesRunning => _colonizing.Count(static t => !t.IsCompleted);

    /// <summary>Resumes queued for the coordinator's next pass (tests).</summary>
    internal int PendingResumes => _resumes.Count;

    /// <summary>One step of the coordinator's pass on its own (tests that interleave it with other threads' calls).</summary>
    internal void ApplyDetachesForTests(long tick) => ApplyDetaches(tick);

    /// <inheritdoc cref="ApplyDetachesForTests"/>
    internal void ApplyResumesForTests() => ApplyResumes();

    /// <summary>Runs in a resume between its check (still detached, not kicked) and its attaching the connection (tests).</summary>
    internal Action? ResumeCheckedHook { get; set; }
}
