using Sol.Server.Game.Wire;

namespace Sol.Server.Game;

/// <summary>
/// The sessions subscribed to one zone, and that zone's encoders. The list changes only on the coordinator between
/// ticks; the encoders are used by whichever worker steps the zone (one at a time).
/// </summary>
internal sealed class ZoneChannel(float destroyedPenalty, ReadOnlySpan<Sol.Core.Galaxy.Star> stars, Func<long, long> creditsOf)
{
    public List<GameSession> Subscribers { get; } = [];

    public SnapshotEncoder Snapshots { get; } = new(destroyedPenalty, stars: stars, creditsOf: creditsOf);

    public ServerMessageWriter Messages { get; } = new(128);

    /// <summary>Per-client selection of what a client sees when the zone is crowded.</summary>
    public ViewSelection View { get; } = new();
}
