using Sol.Core.Galaxy;
using Sol.Core.Mathematics;
using Sol.Zones.Input;
using Sol.Zones.Simulation;

namespace Sol.Zones.Tests;

/// <summary>
/// A scripted game: ships spawned across a ring galaxy, then every tick random steering for some ships and random
/// jump, land and take-off requests for others, all drawn from a seeded stream and from the world's own state, so the
/// same seed gives the same inputs whatever runs the world.
/// </summary>
internal sealed class Scenario
{
    private readonly ZoneWorld _world;
    private readonly int _ships;
    private readonly uint[] _seq;
    private DeterministicRandom _random;

    public Scenario(ZoneWorld world, int ships, ulong seed)
    {
        _world = world;
        _ships = ships;
        _seq = new uint[ships + 1];
        _random = new DeterministicRandom(seed);
        var systems = world.Galaxy.Systems.Length;
        for (var owner = 1; owner <= ships; owner++)
        {
            var system = _random.NextInt(1, systems);
            world.SpawnShip(owner, ZoneId.ForSystem(system), 0, _random.NextDouble(-6_000, 6_000), _random.NextDouble(-6_000, 6_000));
        }
    }

    /// <summary>Posts this tick's inputs (call between ticks).</summary>
    public void PostInputs(double requestChance = 0.02)
    {
        var galaxy = _world.Galaxy;
        for (var owner = 1; owner <= _ships; owner++)
        {
            var roll = _random.NextDouble();
            if (roll < requestChance)
            {
                if (!_world.TryGetZoneOf(owner, out var zone))
                {
                    continue;
                }
                var seq = ++_seq[owner];
                if (zone.Kind == ZoneKind.Planet)
                {
                    _world.RequestTakeOff(owner, seq);
                }
                else if (_random.NextDouble() < 0.5)
                {
                    var gates = galaxy.GatesOf(zone.Id);
                    _world.RequestJump(owner, seq, gates[_random.NextInt(0, gates.Length - 1)].Id);
                }
                else
                {
                    var planets = galaxy.PlanetsOf(zone.Id);
                    _world.RequestLand(owner, seq, planets[_random.NextInt(0, planets.Length - 1)].Id);
                }
            }
            else if (roll < 0.3)
            {
                _world.PostInput(InputCommand.Steer(owner, ++_seq[owner], (float)_random.NextDouble(-1, 1), (float)_random.NextDouble(-1, 1)));
            }
        }
    }
}
