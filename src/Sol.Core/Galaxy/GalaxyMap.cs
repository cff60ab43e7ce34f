using Sol.Core.Mathematics;

namespace Sol.Core.Galaxy;

/// <summary>
/// Stage 1 of generation: map positions (light years) on logarithmic spiral arms around a bulge, and unique names.
/// The galaxy's radius grows with √N, so the density of systems (and so gate lengths) is the same for any size.
/// </summary>
internal sealed class GalaxyMap
{
    /// <summary>Mean distance between neighbouring systems, in light years.</summary>
    public const double Spacing = 12.0;

    private const double MinSeparation = Spacing * 0.25;

    private GalaxyMap(double[] x, double[] y, string[] names, double radius)
    {
        X = x;
        Y = y;
        Names = names;
        Radius = radius;
    }

    public double[] X { get; }

    public double[] Y { get; }

    public string[] Names { get; }

    public double Radius { get; }

    public static GalaxyMap Create(int count, ulong seed)
    {
        var random = DeterministicRandom.ForStream(seed, 1);
        var radius = Spacing * Math.Sqrt(count / Math.PI) * 1.6;
        var arms = random.NextInt(2, 4);
        var twist = random.NextDouble(2.5, 4.5);
        var x = new double[count];
        var y = new double[count];
        var grid = new SpatialGrid(radius * 1.2, MinSeparation, count);
        for (var i = 0; i < count; i++)
        {
            // A few tries to keep systems apart; a crowded spot keeps its last try (no overlap is possible anyway:
            // systems are points on the map, the separation only keeps the map readable).
            double px = 0, py = 0;
            for (var attempt = 0; attempt < 8; attempt++)
            {
                (px, py) = SamplePoint(ref random, radius, arms, twist);
                if (!grid.AnyWithin(px, py, MinSeparation, x, y))
                {
                    break;
                }
            }
            x[i] = px;
            y[i] = py;
            grid.Add(i, px, py);
        }
        return new GalaxyMap(x, y, SystemNames.Create(count, seed), radius);
    }

    private static (double X, double Y) SamplePoint(ref DeterministicRandom random, double radius, int arms, double twist)
    {
        // 20% bulge (a Gaussian blob), 80% arms (a point along an arm with Gaussian scatter growing outwards).
        if (random.NextDouble() < 0.2)
        {
            var spread = radius * 0.18;
            return (random.NextGaussian() * spread, random.NextGaussian() * spread);
        }
        var arm = random.NextInt(0, arms - 1);
        var t = Math.Sqrt(random.NextDouble());
        var r = radius * (0.12 + (0.88 * t));
        var angle = (2 * Math.PI * arm / arms) + (twist * t) + (random.NextGaussian() * 0.18);
        var scatter = radius * 0.05 * (0.5 + t);
        var (sin, cos) = Math.SinCos(angle);
        return ((r * cos) + (random.NextGaussian() * scatter), (r * sin) + (random.NextGaussian() * scatter));
    }
}
