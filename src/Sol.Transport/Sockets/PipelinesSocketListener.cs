using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Sol.Transport.Sockets;

/// <summary>Accepts with a plain listening <see cref="Socket"/> and wraps each accepted socket in Pipelines.Sockets.Unofficial's <see cref="SocketConnection"/>.</summary>
internal sealed class PipelinesSocketListener : ISocketListener
{
    // The pipes take their blocks from BlockMemoryPool, not MemoryPool<byte>.Shared (see there why).
    private static readonly PipeOptions s_pipeOptions = new(pool: BlockMemoryPool.Instance, minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);

    private static readonly TimeSpan s_acceptBackoff = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;

    private PipelinesSocketListener(Socket socket)
    {
        _socket = socket;
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint Endpoint { get; }

    public static PipelinesSocketListener Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(endpoint);
            socket.Listen(512);
            return new PipelinesSocketListener(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask<TransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException
                || e is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
            {
                return null;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                // Out of descriptors or kernel memory: the pending connection stays queued and accepting again at once
                // would spin a core; wait a little for connections to close.
                try
                {
                    await Task.Delay(s_acceptBackoff, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
                continue;
            }
            catch (SocketException)
            {
                continue; // the peer went away between SYN and accept
            }
            SocketConnection.SetRecommendedServerOptions(accepted);
            // Zero-length reads: an idle connection waits without holding a receive buffer (memory per idle connection).
            // Inline reads/writes: the library's own socket loops continue on the IO thread (they only move bytes
            // between socket and pipe; our code still runs on the pipe's scheduler). Without them every received
            // message allocated 32 bytes (SocketAllocationTests measured it).
            const SocketConnectionOptions Options = SocketConnectionOptions.ZeroLengthReads | SocketConnectionOptions.InlineReads | SocketConnectionOptions.InlineWrites;
            return new Connection(accepted, SocketConnection.Create(accepted, s_pipeOptions, Options));
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
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
