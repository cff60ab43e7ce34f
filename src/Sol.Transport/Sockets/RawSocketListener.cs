using System.Net;
using System.Net.Sockets;

namespace Sol.Transport.Sockets;

/// <summary>
/// Sol.Transport's own socket kind on plain <see cref="System.Net.Sockets"/>: a receive loop fills the input pipe, and
/// the output is a <see cref="SocketSender"/> that sends on the flushing thread, so a broadcast goes from the send
/// scheduler's drainer to the kernel with no pipe, send loop or thread hop in between.
/// </summary>
internal sealed class RawSocketListener : ISocketListener
{
    private static readonly TimeSpan s_acceptBackoff = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;
    private readonly BlockMemoryPool _sendBlocks;

    private RawSocketListener(Socket socket, BlockMemoryPool sendBlocks)
    {
        _socket = socket;
        _sendBlocks = sendBlocks;
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint Endpoint { get; }

    /// <param name="endpoint">Where to listen.</param>
    /// <param name="sendBlocks">Where the senders take their blocks (tests pass their own to count them); <see cref="BlockMemoryPool.Instance"/> by default.</param>
    public static RawSocketListener Bind(IPEndPoint endpoint, BlockMemoryPool? sendBlocks = null)
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
            return new RawSocketListener(socket, sendBlocks ?? BlockMemoryPool.Instance);
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
            try
            {
                accepted.NoDelay = true;
                accepted.Blocking = false; // synchronous sends return WouldBlock instead of waiting (SocketSender)
            }
            catch (SocketException)
            {
                accepted.Dispose();
                continue; // reset before we got to it
            }
            return new RawSocketConnection(accepted, _sendBlocks);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
