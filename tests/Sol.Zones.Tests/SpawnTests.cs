using Sol.Core.Galaxy;
using Sol.Zones.Simulation;

namespace Sol.Zones.Tests;

/// <summary>A ship placed by the server (a join, a resume, a respawn): what it comes with.</summary>
public class SpawnTests
{
    private static readonly ShipClass s_scout = new("scout", MaxSpeed: 200, Thrust: 400, TurnRate: 2f, Hull: 100f);

    private static ZoneOptions Options => Sim.Quiet() with { ShipClasses = [s_scout] };

    [Fact]
    public void ASavedShipComesBackOnACircularOrbitWithItsHullAndHeading()
    {
        var ship = Spawned(hull: 37.5f, rotation: 1.25f);
        Assert.Equal(37.5f, ship.Hull);
        Assert.Equal(1.25f, ship.Rotation);
        // Counter-clockwise around the star at the centre, sqrt(GM / r) (one tick of gravity is within the tolerance).
        var r = Math.Sqrt((5_000.0 * 5_000.0) + (3_000.0 * 3_000.0));
        var v = Math.Sqrt(1e6 / r);
        Assert.Equal(3_000 / r * v, ship.VelocityX, 0.05);
        Assert.Equal(5_000 / r * v, ship.VelocityY, 0.05);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-5f)]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(250f)]
    [InlineData(float.PositiveInfinity)]
    public void AHullThatIsNotAboveZeroMeansFullAndMoreThanTheClassHasIsCapped(float saved)
    {
        Assert.Equal(100f, Spawned(hull: saved).Hull);
    }

    [Theory]
    [InlineData(0.5 + (4 * Math.PI), 0.5)]
    [InlineData(-0.5 - (6 * Math.PI), -0.5)]
    [InlineData(-Math.PI, Math.PI)]
    [InlineData(3 * Math.PI, Math.PI)]
    public void AHeadingIsKeptWithinMinusPiToPi(double saved, double expected)
    {
        Assert.Equal(expected, Spawned(rotation: (float)saved).Rotation, 1e-5);
    }

    [Fact]
    public void ASavedVelocityIsKeptAndOneThatIsNotFiniteIsTheOrbits()
    {
        // helper-63: a reconnect placed the ship at rest, an instant brake from 420 u/s.
        var moving = Spawned(vx: 150, vy: -40);
        Assert.Equal(150, moving.VelocityX, 0.05); // one tick of gravity within the tolerance
        Assert.Equal(-40, moving.VelocityY, 0.05);
        var orbit = Spawned();
        Assert.NotEqual(0, orbit.VelocityY);
        foreach (var (vx, vy) in new[] { (double.NaN, 5.0), (5.0, double.PositiveInfinity) })
        {
            var ship = Spawned(vx: vx, vy: vy);
            Assert.Equal((orbit.VelocityX, orbit.VelocityY), (ship.VelocityX, ship.VelocityY));
        }
        // Faster than the class allows: cut to its top speed at the first step.
        var fast = Spawned(vx: 10_000, vy: 0);
        Assert.Equal(s_scout.MaxSpeed, Math.Sqrt((fast.VelocityX * fast.VelocityX) + (fast.VelocityY * fast.VelocityY)), 0.1);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void AHeadingThatIsNotFiniteIsRefused(float rotation)
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Options);
        Assert.False(sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 5_000, -3_000, rotation: rotation));
        sim.Step();
        Assert.False(sim.System(1).TryGetShip(1, out _));
    }

    /// <summary>A ship spawned in system 1 far from its star, after one tick.</summary>
    private static EntityState Spawned(float hull = 0, float rotation = 0, double vx = 0, double vy = 0)
    {
        using var sim = new Sim(TestGalaxy.Ring(2), Options);
        Assert.True(sim.World.SpawnShip(1, ZoneId.ForSystem(1), 0, 5_000, -3_000, hull, rotation, vx, vy));
        sim.Step();
        Assert.True(sim.System(1).TryGetShip(1, out var ship));
        return ship;
    }
}
