using System.Net;
using System.Net.Sockets;

namespace Sol.Transport.Sockets;

/// <summary>
/// The plain listening <see cref="Socket"/> the raw and the Pipelines kinds accept on (Kestrel's transport has its
/// own): bind (dual mode on <c>[::]</c>), listen, and an accept loop that rides out failures of single connections.
/// </summary>
internal sealed class ListeningSocket : IDisposable
{
    private static readonly TimeSpan s_acceptBackoff = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;

    private ListeningSocket(Socket socket)
    {
        _socket = socket;
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The bound address (the real port).</summary>
    public IPEndPoint Endpoint { get; }

    public static ListeningSocket Bind(IPEndPoint endpoint)
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
            return new ListeningSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The next accepted socket, or null once the listener was disposed or <paramref name="cancellationToken"/> fired.</summary>
    public async ValueTask<Socket?> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
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
            }
            catch (SocketException)
            {
                // The peer went away between SYN and accept: take the next one.
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
