using System.Net;

namespace Sol.Server.Game.Port;

/// <summary>The game's listening WebSocket endpoint (path <c>/ws</c>), whatever implements it.</summary>
public interface IGamePort : IAsyncDisposable
{
    /// <summary>The address bound (with the real port when 0 was asked for).</summary>
    IPEndPoint Endpoint { get; }

    /// <summary>What carries the port, for the start-up log line (e.g. the socket kind and its I/O loops).</summary>
    string Description { get; }

    /// <summary>Connections open now.</summary>
    int Connections { get; }

    /// <summary>Connections refused since start because the port was full (<c>--max-connections</c>: 503) or had too many
    /// handshakes under way.</summary>
    long RefusedForRoom { get; }

    /// <summary>Wraps <paramref name="payload"/> for sending to many connections (copied once into pooled bytes).</summary>
    SharedMessage Share(ReadOnlySpan<byte> payload);

    /// <summary>Stops accepting, closes every connection with 1001 (going away) and waits for them, up to the timeout.</summary>
    Task StopAsync(TimeSpan timeout);
}
