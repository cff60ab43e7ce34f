using BenchmarkDotNet.Running;

namespace Sol.Bench;

/// <summary>
/// The BenchmarkDotNet switcher: <c>dotnet run -c Release --project bench/Sol.Bench -- --filter '*Step*'</c>; and the
/// end-to-end measurements that are not BenchmarkDotNet runs: <c>-- flush [POSTGRES]</c> (write-behind, see
/// <see cref="Progress.FlushBench"/>); <c>-- transport-e2e [--quick]</c> (the WebSocket servers end to end, see
/// <see cref="Transport.EndToEndBench"/>; <c>transport-e2e-server</c> is its child process); <c>-- transport-echo</c>
/// (the echo host of the interop stage, see <see cref="Transport.TransportEchoHost"/>); <c>-- zonestep
/// [entities...]</c> (a Stopwatch loop of the zone step benchmarks); <c>-- zone-memory [systems...]</c> (the heap a
/// zone world holds, see <see cref="Zones.ZoneMemory"/>).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : null)
        {
            case "flush":
                return await Progress.FlushBench.RunAsync(args[1..]);
            case "transport-e2e":
                return await Transport.EndToEndBench.RunAsync(args[1..]);
            case "transport-e2e-server":
                return await Transport.BenchServerHost.RunAsync(args[1..]);
            case "transport-echo":
                return await Transport.TransportEchoHost.RunAsync(args[1..]);
            case "zonestep":
                return Zones.ZoneStepProfile.Run(args[1..]);
            case "zone-memory":
                return Zones.ZoneMemory.Run(args[1..]);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
        return 0;
    }
}
