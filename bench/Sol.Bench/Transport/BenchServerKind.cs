namespace Sol.Bench.Transport;

/// <summary>The servers the end-to-end harness compares (command-line names: pipelines, kestrel, raw, raw-sendmsg, aspnet, direct, floor).</summary>
public enum BenchServerKind
{
    /// <summary>Sol.Transport on Pipelines.Sockets.Unofficial.</summary>
    Pipelines,

    /// <summary>Sol.Transport on Kestrel's socket transport.</summary>
    Kestrel,

    /// <summary>Sol.Transport on its own raw socket loop (the default: a loop turn's sends in one io_uring call where the kernel allows it).</summary>
    Raw,

    /// <summary>The same with <see cref="Sol.Transport.WebSocketServerOptions.RingSends"/> off: one <c>sendmsg</c> per flush, on the flushing thread.</summary>
    RawSendmsg,

    /// <summary>The baseline: a minimal ASP.NET Core app with <c>UseWebSockets</c> (Kestrel, HTTP/1.1 upgrade).</summary>
    AspNet,

    /// <summary>
    /// The reference, not a product: plain sockets, each message framed once and sent with blocking
    /// <c>Socket.Send</c> to every receiver on the thread that read it (<see cref="DirectBenchServer"/>).
    /// </summary>
    Direct,

    /// <summary>
    /// The floor reference, not a product and not .NET: bench/floor/floor-server.c, one C thread that frames a broadcast
    /// once and sends it to every subscriber with one io_uring submission (see that file). A lean sample of what a
    /// fan-out message costs when little but the kernel's work per TCP send is left; not a proven bound.
    /// </summary>
    Floor,
}
