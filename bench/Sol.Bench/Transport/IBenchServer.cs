namespace Sol.Bench.Transport;

/// <summary>
/// A WebSocket server under test, on 127.0.0.1, path <c>/ws</c>. The query parameter <c>role</c> picks what a
/// connection does: <c>sub</c> receives every broadcast, <c>pub</c> sends messages that are broadcast to every
/// <c>sub</c> (each subscriber gets its own send), anything else is echoed back (text as text, binary as binary).
/// The subprotocol <c>echo.v1</c> is accepted when offered; the interop echo host (<c>requireSubProtocol</c>) asks for it.
/// </summary>
public interface IBenchServer : IAsyncDisposable
{
    /// <summary>The subprotocol the servers offer.</summary>
    const string SubProtocol = "echo.v1";

    /// <summary>The bound port.</summary>
    int Port { get; }

    /// <summary>Open WebSocket connections.</summary>
    int Connections { get; }

    static Task<IBenchServer> StartAsync(BenchServerKind kind, int port, bool requireSubProtocol = false) => kind switch
    {
        BenchServerKind.AspNet => AspNetBenchServer.StartAsync(port),
        BenchServerKind.Direct => DirectBenchServer.StartAsync(port),
        BenchServerKind.Floor => throw new ArgumentException("floor is a C program (bench/floor/floor-server.c), not a server of this one", nameof(kind)),
        _ => SolBenchServer.StartAsync(kind, port, requireSubProtocol),
    };
}
