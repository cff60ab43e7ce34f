using System.Globalization;

namespace Sol.Bench.Transport;

/// <summary>
/// What <c>transport-e2e</c> runs. Options: <c>--quick</c> (a smoke run of about 45 s), <c>--duration S</c> and
/// <c>--warmup S</c> per round, <c>--rounds N</c> per row (the median is shown), <c>--servers pipelines,kestrel,raw,raw-sendmsg,aspnet,direct,floor</c> (floor needs bench/floor/build.sh first; the scripts run it), <c>--clients 16,256,2000</c>,
/// <c>--sizes 200,2048</c>, <c>--rates 20,0</c> (broadcasts per second; 0 is flat out), <c>--idle N</c> (connections for the memory row; 0 skips it), <c>--window N</c>
/// (broadcasts in flight flat out), <c>--burst N</c> (messages per publish, one write; 1 by default),
/// <c>--echo-clients N</c> (0 leaves the echo row out), <c>--echo-window N</c> (messages in flight per echo client), <c>--alloc-types</c>
/// (sample which types each server allocates in each row and print them; costs the servers a little).
/// </summary>
public sealed record EndToEndOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Rounds per row; the row shows the median round.</summary>
    public int Rounds { get; init; } = 3;

    public IReadOnlyList<BenchServerKind> Servers { get; init; } =
        [BenchServerKind.Pipelines, BenchServerKind.Kestrel, BenchServerKind.Raw, BenchServerKind.RawSendmsg, BenchServerKind.AspNet, BenchServerKind.Direct, BenchServerKind.Floor];

    public int EchoClients { get; init; } = 100;

    public int EchoPayload { get; init; } = 20;

    public int EchoWindow { get; init; } = 1;

    public IReadOnlyList<int> Clients { get; init; } = [16, 256, 2000];

    public IReadOnlyList<int> Sizes { get; init; } = [200, 2048];

    /// <summary>Broadcast rates; 0 is flat out.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [20, 0];

    public int Window { get; init; } = 8;

    /// <summary>Messages the publisher sends at a time (in one write), as a game tick sends a snapshot and events.</summary>
    public int Burst { get; init; } = 1;

    public int IdleConnections { get; init; } = 10_000;

    public bool Quick { get; init; }

    public bool AllocationTypes { get; init; }

    public static EndToEndOptions Parse(string[] args)
    {
        var options = new EndToEndOptions();
        if (args.Contains("--quick"))
        {
            options = options with
            {
                Quick = true,
                Duration = TimeSpan.FromSeconds(0.6),
                Warmup = TimeSpan.FromSeconds(0.3),
                Rounds = 1,
                Clients = [16, 256],
                Sizes = [200],
                IdleConnections = 1000,
            };
        }
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--quick":
                    continue;
                case "--alloc-types":
                    options = options with { AllocationTypes = true };
                    continue;
                case "--duration":
                    options = options with { Duration = TimeSpan.FromSeconds(Number(args[i], value)) };
                    break;
                case "--warmup":
                    options = options with { Warmup = TimeSpan.FromSeconds(Number(args[i], value)) };
                    break;
                case "--servers":
                    options = options with { Servers = List(args[i], value, Kind) };
                    break;
                case "--clients":
                    options = options with { Clients = List(args[i], value, v => (int)Number("--clients", v)) };
                    break;
                case "--sizes":
                    options = options with { Sizes = List(args[i], value, v => (int)Number("--sizes", v)) };
                    break;
                case "--rounds":
                    options = options with { Rounds = Math.Max(1, (int)Number(args[i], value)) };
                    break;
                case "--rates":
                    options = options with { Rates = List(args[i], value, v => Number("--rates", v)) };
                    break;
                case "--idle":
                    options = options with { IdleConnections = (int)Number(args[i], value) };
                    break;
                case "--window":
                    options = options with { Window = Math.Max(2, (int)Number(args[i], value)) };
                    break;
                case "--burst":
                    options = options with { Burst = Math.Max(1, (int)Number(args[i], value)) };
                    break;
                case "--echo-clients":
                    options = options with { EchoClients = Math.Max(0, (int)Number(args[i], value)) };
                    break;
                case "--echo-window":
                    options = options with { EchoWindow = Math.Max(1, (int)Number(args[i], value)) };
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
            i++;
        }
        return options;
    }

    private static double Number(string name, string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0
            ? number
            : throw new ArgumentException($"{name} needs a non-negative number");

    private static BenchServerKind Kind(string name) =>
        BenchServerHost.TryParseKind(name, out var kind) ? kind : throw new ArgumentException($"unknown server {name}");

    private static T[] List<T>(string name, string? value, Func<string, T> parse) =>
        value is null ? throw new ArgumentException($"{name} needs a value") : value.Split(',').Select(parse).ToArray();
}
