using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Sol.Transport.Sockets;

/// <summary>Accepts on a <see cref="ListeningSocket"/> and wraps each accepted socket in Pipelines.Sockets.Unofficial's <see cref="SocketConnection"/>.</summary>
internal sealed class PipelinesSocketListener : ISocketListener
{
    // The pipes take their blocks from BlockMemoryPool, not MemoryPool<byte>.Shared (see there why).
    private static readonly PipeOptions s_pipeOptions = new(pool: BlockMemoryPool.Instance, minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);

    private readonly ListeningSocket _listening;

    private PipelinesSocketListener(ListeningSocket listening) => _listening = listening;

    public IPEndPoint Endpoint => _listening.Endpoint;

    public static PipelinesSocketListener Bind(IPEndPoint endpoint) => new(ListeningSocket.Bind(endpoint));

    public async ValueTask<TransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        var accepted = await _listening.AcceptAsync(cancellationToken).ConfigureAwait(false);
        if (accepted is null)
        {
            return null;
        }
        SocketConnection.SetRecommendedServerOptions(accepted);
        // Zero-length reads: an idle connection waits without holding a receive buffer (memory per idle connection).
        // Inline reads/writes: the library's own socket loops continue on the IO thread (they only move bytes
        // between socket and pipe; our code still runs on the pipe's scheduler). Without them every received
        // message allocated 32 bytes (SocketAllocationTests measured it).
        const SocketConnectionOptions Options = SocketConnectionOptions.ZeroLengthReads | SocketConnectionOptions.InlineReads | SocketConnectionOptions.InlineWrites;
        return new Connection(accepted, SocketConnection.Create(accepted, s_pipeOptions, Options));
    }

    public ValueTask DisposeAsync()
    {
        _listening.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Connection(Socket socket, SocketConnection connection) : TransportConnection
    {
        public override IDuplexPipe Pipe => connection;

        public override EndPoint? RemoteEndPoint { get; } = socket.RemoteEndPoint;

        public override void Abort() => connection.Dispose();

        public override ValueTask DisposeAsync()
        {
            connection.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
