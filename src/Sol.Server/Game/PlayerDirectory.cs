using System.Data.Common;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Assets;

namespace Sol.Server.Game;

/// <summary>
/// Finds a player's record in the served galaxy, creating it on first login: one of the starting systems (the few
/// nearest the galaxy's centre, chosen by account), parked just outside the orbit of that system's first planet and
/// facing outward (away from the star), starting credits, the starter ship at full hull, explored = the starting system,
/// nothing else.
/// </summary>
public sealed class PlayerDirectory
{
    private readonly IPlayerStore _store;
    private readonly GalaxyModel _galaxy;
    private readonly Guid _galaxyId;
    private readonly GameRules _rules;
    private readonly GalaxyClock _clock;
    private readonly int[] _startingSystems;

    public PlayerDirectory(IPlayerStore store, GalaxyModel galaxy, Guid galaxyId, GameRules rules, GalaxyClock clock, int startingSystems)
    {
        _store = store;
        _galaxy = galaxy;
        _galaxyId = galaxyId;
        _rules = rules;
        _clock = clock;
        ZoneTime = () => _clock.Now;
        _startingSystems = PickStartingSystems(galaxy, Math.Max(1, startingSystems));
    }

    public IReadOnlyList<int> StartingSystems => _startingSystems;

    /// <summary>
    /// The zones' time now, where new players are placed beside a planet. Galaxy time until the server sets the
    /// world's (which falls behind galaxy time by every tick that overran: the loop does not catch up).
    /// </summary>
    public Func<double> ZoneTime { get; set; }

    public async Task<PlayerRecord> EnsureAsync(Guid accountId, CancellationToken cancellationToken)
    {
        if (await _store.LoadPlayerAsync(accountId, _galaxyId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }
        var player = NewPlayer(accountId);
        try
        {
            await _store.SavePlayersAsync([player], cancellationToken).ConfigureAwait(false);
        }
        catch (DbException)
        {
            // Two first logins of one account at once: the other one created the player (unique account + galaxy).
            if (await _store.LoadPlayerAsync(accountId, _galaxyId, cancellationToken).ConfigureAwait(false) is { } raced)
            {
                return raced;
            }
            throw;
        }
        return player;
    }

    private PlayerRecord NewPlayer(Guid accountId)
    {
        var system = _startingSystems[(int)((uint)accountId.GetHashCode() % (uint)_startingSystems.Length)];
        var (x, y) = (0.0, 0.0);
        var planets = _galaxy.PlanetsOf(system);
        if (planets.Length > 0)
        {
            // Outside the first planet's orbit band, on the planet's side of the star.
            var (px, py) = planets[0].PositionAt(ZoneTime());
            var r = Math.Sqrt((px * px) + (py * py));
            var scale = (r + planets[0].Radius + 250) / r;
            (x, y) = (px * scale, py * scale);
        }
        else
        {
            var stars = _galaxy.StarsOf(system);
            var reach = 0.0;
            foreach (var star in stars)
            {
                reach = Math.Max(reach, Math.Sqrt((star.X * star.X) + (star.Y * star.Y)) + star.DamageRadius);
            }
            x = reach + 800;
        }
        var ship = _rules.Ships[_rules.ShipIndex(_rules.StarterShip)];
        return new PlayerRecord
        {
            Id = Guid.NewGuid(),
            AccountId = accountId,
            GalaxyId = _galaxyId,
            Zone = ZoneId.ForSystem(system),
            X = x,
            Y = y,
            Rotation = Math.Atan2(y, x), // outward from the centre, where the stars are: a first thrust does not fly into one
            Credits = _rules.StartingCredits,
            ShipType = ship.Id,
            Hull = ship.Hull,
            HomeSystemId = system,
            UpdatedAt = DateTimeOffset.UtcNow,
            Version = 1,
            Explored = [system],
        };
    }

    private static int[] PickStartingSystems(GalaxyModel galaxy, int count)
    {
        double cx = 0, cy = 0;
        foreach (var s in galaxy.Systems)
        {
            cx += s.X;
            cy += s.Y;
        }
        cx /= galaxy.Systems.Length;
        cy /= galaxy.Systems.Length;
        return [.. galaxy.Systems
            .OrderBy(s => ((s.X - cx) * (s.X - cx)) + ((s.Y - cy) * (s.Y - cy)))
            .ThenBy(s => s.Id)
            .Take(count)
            .Select(s => s.Id)];
    }
}
