using Sol.Core.Galaxy;
using Sol.Zones.Simulation;

namespace Sol.Bench.Zones;

/// <summary>
/// <c>-- zone-memory [systems...]</c>: the managed heap a <see cref="ZoneWorld"/> holds right after it is made (every
/// zone created, none visited), per galaxy size and per zone: what an idle server pays for the galaxy's size. A
/// galaxy of default parameters (seed 42, as atom and helper-64 made them).
/// </summary>
internal static class ZoneMemory
{
    public static int Run(string[] args)
    {
        var sizes = args.Length > 0 ? args.Select(int.Parse).ToArray() : [2_000, 20_000];
        Console.WriteLine("| systems | zones (planet surfaces) | heap held | per zone |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var systems in sizes)
        {
            var galaxy = GalaxyGenerator.Generate("main", GalaxyParameters.Default(systems, 42));
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var before = GC.GetTotalMemory(true);
            var world = new ZoneWorld(galaxy, new ZoneOptions { Seed = 42 });
            var held = GC.GetTotalMemory(true) - before;
            Console.WriteLine($"| {systems:N0} | {world.Zones.Length:N0} ({galaxy.Planets.Length:N0}) | {held / 1048576.0:N1} MiB | {held / (double)world.Zones.Length:N0} B |");
            GC.KeepAlive(world);
        }
        return 0;
    }
}
