namespace Sol.LoadGen;

/// <summary>One load run, as the command line describes it.</summary>
public sealed record LoadGenOptions
{
    public Uri Http { get; init; } = new("http://127.0.0.1:8080");

    public Uri Game { get; init; } = new("ws://127.0.0.1:7777/ws");

    public int Bots { get; init; } = 100;

    public TimeSpan Ramp { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public Scenario Scenario { get; init; } = Scenario.Mixed;

    /// <summary>Weights of idle, wander and travel for <see cref="Scenario.Mixed"/>.</summary>
    public (int Idle, int Wander, int Travel) Mix { get; init; } = (1, 2, 2);

    public int InputRate { get; init; } = 20;

    public ulong Seed { get; init; } = 1;

    public string Report { get; init; } = "text";

    public string? Out { get; init; }

    public double? AssertP99Ms { get; init; }

    public double? AssertMaxErrorRate { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Prefix of the bots' device ids (so two runs can be told apart, or reuse accounts).</summary>
    public string DevicePrefix { get; init; } = "loadgen";

    public bool Live { get; init; } = !Console.IsOutputRedirected;
}
