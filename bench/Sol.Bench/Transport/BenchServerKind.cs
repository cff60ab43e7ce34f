namespace Sol.Bench.Transport;

/// <summary>The servers the end-to-end harness compares (command-line names: pipelines, kestrel, aspnet, direct).</summary>
public enum BenchServerKind
{
    /// <summary>Sol.Transport on Pipelines.Sockets.Unofficial.</summary>
    Pipelines,

    /// <summary>Sol.Transport on Kestrel's socket transport.</summary>
    Kestrel,

    /// <summary>The baseline: a minimal ASP.NET Core app with <c>UseWebSockets</c> (Kestrel, HTTP/1.1 upgrade).</summary>
    AspNet,

    /// <summary>
    /// The reference, not a product: plain sockets, each message framed once and sent with blocking
    /// <c>Socket.Send</c> to every receiver on the thread that read it (<see cref="DirectBenchServer"/>).
    /// </summary>
    Direct,
}
