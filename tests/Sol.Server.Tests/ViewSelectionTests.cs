using Sol.Server.Game.Wire;
using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Server.Tests;

/// <summary><see cref="ViewSelection"/> against a sort of every ship by distance, on random zones.</summary>
public sealed class ViewSelectionTests
{
    [Fact]
    public void SelectsTheOwnShipAndExactlyTheNearestShipsAndNoFixedBody() => AssertExact(new Random(7), zones: 300, minShips: 1, maxShips: 900);

    [Fact]
    public void InZonesOfThousandsTheGridSelectsExactlyTheNearestShipsToo()
    {
        // From 256 ships the selection gathers rings of grid cells instead of looking at every ship: the same checks,
        // with clusters, spots, far outliers and ships spread evenly.
        AssertExact(new Random(11), zones: 60, minShips: 256, maxShips: 5000);
    }

    [Fact]
    public void OneShipFarAwayDoesNotUndoTheGrid()
    {
        // A ship flown far off stretched the grid's box until every other ship fell into one cell, and each selection
        // looked at the whole zone again (2,000 ships here): the box now leaves out the farthest 1 % on each side.
        var random = new Random(11);
        var entities = new List<EntityState>();
        for (var i = 0; i < 2000; i++)
        {
            var radius = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * 3_000;
            var angle = random.NextDouble() * Math.Tau;
            entities.Add(new EntityState(new EntityHandle(i, 1), EntityKind.Ship, default, 0, 0, 0, 0, radius * Math.Cos(angle), radius * Math.Sin(angle), 0, 0, 0, 0, 1));
        }
        entities.Add(new EntityState(new EntityHandle(2000, 1), EntityKind.Ship, default, 0, 0, 0, 0, 1e9, -1e9, 0, 0, 0, 0, 1));
        var array = entities.ToArray();
        var selection = new ViewSelection();
        Assert.Equal(2001, selection.Prepare(array));

        foreach (var own in array.Take(30).Append(array[^1]))
        {
            var chosen = selection.Select(own, 96).ToArray().Select(i => array[i]).ToArray();
            var lookedAt = selection.LookedAt;
            Assert.Contains(own, chosen);
            var others = chosen.Where(e => e != own).ToArray();
            Assert.Equal(96, others.Length);
            var farthestTaken = others.Max(e => Distance(own, e));
            var nearestLeft = array.Where(e => e != own && !others.Contains(e)).Min(e => Distance(own, e));
            Assert.True(nearestLeft >= farthestTaken, $"a ship at {nearestLeft} was left out for one at {farthestTaken}");
            if (own != array[^1])
            {
                Assert.True(lookedAt < array.Length / 4, $"{lookedAt} ships looked at for one client");
            }
        }
    }

    [Fact]
    public void NoGridIsBuiltWhereAViewHoldsAQuarterOfTheZone()
    {
        // 300 ships: a view of 96 others (97 with the own ship) is more than a quarter, and Select looks at every ship
        // anyway, so sorting them into a grid each tick would be wasted; a view of 50 goes by the grid.
        var random = new Random(5);
        var array = Enumerable.Range(0, 300)
            .Select(i => new EntityState(new EntityHandle(i, 1), EntityKind.Ship, default, 0, 0, 0, 0, random.NextDouble() * 10_000, random.NextDouble() * 10_000, 0, 0, 0, 0, 1))
            .ToArray();
        var selection = new ViewSelection();

        selection.Prepare(array, limit: 96);
        Assert.False(selection.HasGrid);
        Assert.Equal(97, selection.Select(array[0], 96).Length);
        Assert.Equal(300, selection.LookedAt);

        selection.Prepare(array, limit: 50);
        Assert.True(selection.HasGrid);
        Assert.Equal(51, selection.Select(array[0], 50).Length);
        Assert.True(selection.LookedAt < 300, $"{selection.LookedAt} ships looked at");
    }

    [Fact]
    public void MoreThanOnePercentFarAwayMakesNoGridAndANonFiniteShipIsInNoView()
    {
        // helper-70: 21 ships far off of 2,000 stretched the trimmed box again, and the rings gathered one cell of 1,979
        // ships for each client, at 2.5x the cost of looking at every ship: with more than half the ships in one cell
        // there is no grid.
        var random = new Random(5);
        var entities = new List<EntityState>();
        for (var i = 0; i < 2000; i++)
        {
            entities.Add(new EntityState(new EntityHandle(i, 1), EntityKind.Ship, default, 0, 0, 0, 0, random.NextDouble() * 5000, random.NextDouble() * 5000, 0, 0, 0, 0, 1));
        }
        var selection = new ViewSelection();
        selection.Prepare([.. entities]);
        Assert.True(selection.HasGrid);
        for (var i = 0; i < 40; i++)
        {
            entities.Add(new EntityState(new EntityHandle(2000 + i, 1), EntityKind.Ship, default, 0, 0, 0, 0, 1e9 + i, -1e9, 0, 0, 0, 0, 1));
        }
        selection.Prepare([.. entities]);
        Assert.False(selection.HasGrid);

        // A ship whose position is not a number is left out: NaN distances broke the quickselects.
        entities.Add(new EntityState(new EntityHandle(5000, 1), EntityKind.Ship, default, 0, 0, 0, 0, double.NaN, 0, 0, 0, 0, 0, 1));
        var array = entities.ToArray();
        Assert.Equal(2040, selection.Prepare(array));
        var own = array[0];
        var chosen = selection.Select(own, 96).ToArray().Select(i => array[i]).ToArray();
        Assert.Contains(own, chosen);
        Assert.DoesNotContain(chosen, e => double.IsNaN(e.X));
        Assert.Equal(97, chosen.Length);
    }

    private static void AssertExact(Random random, int zones, int minShips, int maxShips)
    {
        var selection = new ViewSelection();
        for (var zone = 0; zone < zones; zone++)
        {
            var ships = random.Next(minShips, maxShips);
            var bodies = random.Next(0, 20);
            // Every third zone has ships on a few spots only (a spawn point full of idle players): many equal distances.
            var spots = zone % 3 == 0 ? random.Next(1, 6) : 0;
            var entities = new List<EntityState>();
            for (var i = 0; i < ships + bodies; i++)
            {
                var kind = i < bodies ? EntityKind.Planet : random.Next(4) == 0 ? EntityKind.Npc : EntityKind.Ship;
                // Clustered as in a starting system, with some far away.
                var spread = random.Next(3) == 0 ? 1e6 : 2e3;
                var (x, y) = spots > 0 && kind != EntityKind.Planet
                    ? (random.Next(spots) * 500.0, 0.0)
                    : ((random.NextDouble() - 0.5) * spread, (random.NextDouble() - 0.5) * spread);
                entities.Add(new EntityState(new EntityHandle(i, 1 + zone), kind, default, 0, 0, 0, 0, x, y, 0, 0, 0, 0, 1));
            }
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entities));
            var array = entities.ToArray();
            Assert.Equal(ships, selection.Prepare(array));

            for (var client = 0; client < 5; client++)
            {
                var moving = array.Where(e => e.Kind != EntityKind.Planet).ToArray();
                var own = moving[random.Next(moving.Length)];
                var limit = random.Next(0, 200);

                var selected = selection.Select(own, limit).ToArray();

                Assert.Equal(selected.Length, selected.Distinct().Count());
                var chosen = selected.Select(i => array[i]).ToArray();
                Assert.DoesNotContain(chosen, e => e.Kind == EntityKind.Planet); // fixed bodies are in ZoneEnter, not snapshots
                Assert.Contains(own, chosen);
                var others = chosen.Where(e => e.Kind != EntityKind.Planet && e != own).ToArray();
                Assert.Equal(Math.Min(limit, ships - 1), others.Length);
                if (others.Length > 0 && others.Length < ships - 1)
                {
                    // Nothing left out is nearer than the farthest one taken (distances as the selection computes them).
                    var farthestTaken = others.Max(e => Distance(own, e));
                    var nearestLeft = moving.Where(e => e != own && !others.Contains(e)).Min(e => Distance(own, e));
                    Assert.True(nearestLeft >= farthestTaken, $"zone {zone}: a ship at {nearestLeft} was left out for one at {farthestTaken}");
                }
            }
        }
    }

    private static float Distance(in EntityState own, in EntityState other)
    {
        float dx = (float)other.X - (float)own.X, dy = (float)other.Y - (float)own.Y;
        return (dx * dx) + (dy * dy);
    }
}
