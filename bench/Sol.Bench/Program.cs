using BenchmarkDotNet.Running;

namespace Sol.Bench;

/// <summary>
/// The BenchmarkDotNet switcher: <c>dotnet run -c Release --project bench/Sol.Bench -- --filter '*Step*'</c>; and the
/// end-to-end measurements that are not BenchmarkDotNet runs: <c>-- flush [POSTGRES]</c> (write-behind, see
/// <see cref="Progress.FlushBench"/>); <c>-- zonestep [entities...]</c> (a Stopwatch loop of the zone step benchmarks).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "flush")
        {
            return await Progress.FlushBench.RunAsync(args[1..]);
        }
        if (args.Length > 0 && args[0] == "zonestep")
        {
            return Zones.ZoneStepProfile.Run(args[1..]);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
        return 0;
    }
}
