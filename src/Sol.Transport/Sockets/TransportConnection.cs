using System.IO.Pipelines;
using System.Net;

namespace Sol.Transport.Sockets;

/// <summary>One accepted TCP connection as a duplex pipe, whatever socket library accepted it.</summary>
internal abstract class TransportConnection : IAsyncDisposable
{
    public abstract IDuplexPipe Pipe { get; }

    public abstract EndPoint? RemoteEndPoint { get; }

    /// <summary>Where the connection's writer runs when it has something to send.</summary>
    internal virtual Connections.SendScheduler Scheduler => Connections.SendScheduler.Shared;

    /// <summary>Tears the socket down now (pending reads end); safe to call more than once and from any thread.</summary>
    public abstract void Abort();

    /// <summary>Releases the socket after both pipe ends were completed (sends what was flushed first).</summary>
    public abstract ValueTask DisposeAsync();
}
