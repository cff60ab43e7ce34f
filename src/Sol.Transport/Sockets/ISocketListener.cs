using System.Net;

namespace Sol.Transport.Sockets;

/// <summary>The small interface both socket libraries hide behind: a bound listener that accepts pipes.</summary>
internal interface ISocketListener : IAsyncDisposable
{
    /// <summary>The bound address (the real port).</summary>
    IPEndPoint Endpoint { get; }

    /// <summary>The next connection, or null once the listener was unbound.</summary>
    ValueTask<TransportConnection?> AcceptAsync(CancellationToken cancellationToken);
}
