using System.Net;
using Sol.Transport;

namespace Sol.Bench.Transport;

/// <summary>
/// Sol.Transport's <see cref="WebSocketServer"/> with <see cref="SolBenchHandler"/>. No idle pings within a benchmark
/// (the harness's idle clients do not answer them; the interop echo host pings soon, see below); room for 10,000 idle
/// connections plus the harness's others.
/// </summary>
public sealed class SolBenchServer : IBenchServer
{
    private readonly WebSocketServer _server;

    private SolBenchServer(WebSocketServer server) => _server = server;

    public int Port => _server.Endpoint.Port;

    public int Connections => _server.Connections;

    public static async Task<IBenchServer> StartAsync(BenchServerKind kind, int port, bool requireSubProtocol)
    {
        var options = new WebSocketServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, port),
            Sockets = kind switch
            {
                BenchServerKind.Kestrel => SocketTransportKind.Kestrel,
                BenchServerKind.Raw or BenchServerKind.RawSendmsg => SocketTransportKind.Raw,
                _ => SocketTransportKind.Pipelines,
            },
            RingSends = kind != BenchServerKind.RawSendmsg,
            SubProtocols = requireSubProtocol ? [IBenchServer.SubProtocol] : [],
            MaxConnections = 20_000,
            // The interop echo host pings a client after 0.75 s of silence and closes 0.75 s after an unanswered ping,
            // so the browser check's idle pause shows that the browser answers our pings.
            IdleTimeout = requireSubProtocol ? TimeSpan.FromSeconds(1.5) : TimeSpan.FromMinutes(10),
            // An echoed 1 MiB message is more than the default backlog of 1 MiB once framed.
            MaxQueuedBytes = 4 << 20,
        };
        return new SolBenchServer(await WebSocketServer.StartAsync(options, new SolBenchHandler()));
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(TimeSpan.FromSeconds(2));
        await _server.DisposeAsync();
    }
}
