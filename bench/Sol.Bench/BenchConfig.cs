using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;

namespace Sol.Bench;

/// <summary>Shared configuration: every benchmark reports allocations (a hot path shows <c>Allocated: -</c>).</summary>
public static class BenchConfig
{
    public static IConfig Create() => DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default);
}
