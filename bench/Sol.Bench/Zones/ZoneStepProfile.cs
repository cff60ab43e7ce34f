using System.Diagnostics;

namespace Sol.Bench.Zones;

/// <summary>
/// A quick Stopwatch loop over the three <see cref="ZoneStepBenchmarks"/> methods, interleaved so that the machine's
/// load hits all three alike: <c>dotnet run -c Release --project bench/Sol.Bench -- zonestep [entities...]</c>.
/// Prints the best and the median ns/entity of each; for profiling between BenchmarkDotNet runs, not a substitute.
/// </summary>
internal static class ZoneStepProfile
{
    public static int Run(string[] args)
    {
        var sizes = args.Length > 0 ? args.Select(int.Parse).ToArray() : [1_000, 10_000, 100_000, 1_000_000];
        foreach (var n in sizes)
        {
            var bench = new ZoneStepBenchmarks { Entities = n };
            bench.Setup();
            var reps = Math.Max(1, 2_000_000 / n);
            var rounds = 15;
            var objects = new double[rounds];
            var soa = new double[rounds];
            var copy = new double[rounds];
            for (var warm = 0; warm < 3; warm++)
            {
                Time(bench.ObjectStep, reps);
                Time(bench.SoaStep, reps);
                Time(bench.StreamCopy, reps);
            }
            for (var r = 0; r < rounds; r++)
            {
                objects[r] = Time(bench.ObjectStep, reps) / n;
                soa[r] = Time(bench.SoaStep, reps) / n;
                copy[r] = Time(bench.StreamCopy, reps) / n;
            }
            Array.Sort(objects);
            Array.Sort(soa);
            Array.Sort(copy);
            Console.WriteLine(
                $"{n,9:N0}  objects {objects[0],6:F2} / {objects[rounds / 2],6:F2}  soa {soa[0],6:F2} / {soa[rounds / 2],6:F2}  " +
                $"copy {copy[0],6:F2} / {copy[rounds / 2],6:F2}  ns/entity (best / median)  ratio best {objects[0] / soa[0]:F2} median {objects[rounds / 2] / soa[rounds / 2]:F2}");
        }
        return 0;
    }

    private static double Time(Action action, int reps)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < reps; i++)
        {
            action();
        }
        return sw.Elapsed.TotalNanoseconds / reps;
    }
}
