using System.Buffers;
using System.Net;

namespace Sol.Transport;

/// <summary>The settings of a <see cref="WebSocketServer"/>; every property is init-only and has a usable default.</summary>
public sealed class WebSocketServerOptions
{
    /// <summary>The address to listen on (port 0 picks a free port; <see cref="WebSocketServer.Endpoint"/> tells it).</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>The socket kind that accepts connections and moves their bytes (raw by default: the least CPU per message).</summary>
    public SocketTransportKind Sockets { get; init; } = SocketTransportKind.Raw;

    /// <summary>
    /// Raw kind on I/O loops (Linux): the sends a loop makes in one turn go to the kernel in one <c>io_uring_enter</c>
    /// instead of one <c>sendmsg</c> each, where the kernel allows io_uring (<see cref="WebSocketServer.IoRings"/>; else
    /// each flush sends at once, as with false). On by default: in four end-to-end runs it took less server CPU per message
    /// on 42 of 48 fan-out rows (2,000 clients at 20 Hz: 5.35 against 7.34 µs in a profile; bench/results/).
    /// </summary>
    public bool RingSends { get; init; } = true;

    /// <summary>The only path that upgrades; any other path is answered with 404.</summary>
    public string Path { get; init; } = "/ws";

    /// <summary>
    /// The subprotocols the server speaks, in order of preference. Empty: accept without a subprotocol. Otherwise the
    /// first of this list that the client offered is chosen, and a client that offered none of them gets 400.
    /// </summary>
    public IReadOnlyList<string> SubProtocols { get; init; } = [];

    /// <summary>Open connections at most; one more is answered with 503 before <c>101</c>.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// Accepted sockets still in their handshake at most; one more is closed at once (no response: it sent nothing we
    /// read yet). Each holds a socket and its buffers for up to <see cref="HandshakeTimeout"/>, so without this a flood
    /// of connects that never speak could take every descriptor before any of them times out.
    /// </summary>
    public int MaxPendingHandshakes { get; init; } = 1024;

    /// <summary>How long a client may take to send its whole upgrade request (slowloris guard); then the socket is closed.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A ping is sent after half of this without traffic from the client, and the connection is closed (1001) after all of
    /// it, once that ping has gone unanswered for at least half of it (a timer that runs late still pings first).
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest request head (request line and headers); a larger one is answered with 431 and closed.</summary>
    public int MaxHeaderBytes { get; init; } = 8 * 1024;

    /// <summary>The largest message (all fragments together); a bigger one closes the connection with 1009.</summary>
    public int MaxMessageSize { get; init; } = 1 << 20;

    /// <summary>The most reliable bytes queued or being flushed per connection (payloads and shared frames, not the
    /// replaceable latest); going over closes that client with 1008.</summary>
    public int MaxQueuedBytes { get; init; } = 1 << 20;

    /// <summary>The Origin allow-list hook: null accepts any origin; returning false answers 403. Requests without an Origin (non-browser clients) are not asked about.</summary>
    public Func<string, bool>? AllowOrigin { get; init; }

    /// <summary>Where buffers come from (tests pass a counting pool to catch leaks); null is <see cref="ArrayPool{T}.Shared"/>.</summary>
    internal ArrayPool<byte>? BufferPool { get; init; }

    /// <summary>How long a started close handshake may take before the socket is aborted.</summary>
    internal TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
