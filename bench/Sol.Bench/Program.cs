using BenchmarkDotNet.Running;

namespace Sol.Bench;

/// <summary>The BenchmarkDotNet switcher: <c>dotnet run -c Release --project bench/Sol.Bench -- --filter '*Frame*'</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
}
