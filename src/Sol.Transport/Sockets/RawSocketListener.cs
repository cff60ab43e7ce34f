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
    private readonly ListeningSocket _listening;
    private readonly BlockMemoryPool _sendBlocks;
    private readonly bool _ioLoops;
    private readonly bool _ringSends;

    private RawSocketListener(ListeningSocket listening, BlockMemoryPool sendBlocks, bool ioLoops, bool ringSends)
    {
        _listening = listening;
        _sendBlocks = sendBlocks;
        _ioLoops = ioLoops;
        _ringSends = ringSends;
    }

    public IPEndPoint Endpoint => _listening.Endpoint;

    /// <param name="endpoint">Where to listen.</param>
    /// <param name="sendBlocks">Where the senders take their blocks (tests pass their own to count them); <see cref="BlockMemoryPool.Instance"/> by default.</param>
    /// <param name="ioLoops">Read on the <see cref="IoLoop"/>s where they run (tests turn them off to cover the other path).</param>
    /// <param name="ringSends">Batch the sends made on a loop through its <see cref="IoRing"/> where it has one (<see cref="WebSocketServerOptions.RingSends"/>).</param>
    public static RawSocketListener Bind(IPEndPoint endpoint, BlockMemoryPool? sendBlocks = null, bool ioLoops = true, bool ringSends = true) =>
        new(ListeningSocket.Bind(endpoint), sendBlocks ?? BlockMemoryPool.Instance, ioLoops && IoLoop.IsSupported, ringSends);

    public async ValueTask<TransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var accepted = await _listening.AcceptAsync(cancellationToken).ConfigureAwait(false);
            if (accepted is null)
            {
                return null;
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
            return new RawSocketConnection(accepted, _sendBlocks, _ioLoops ? IoLoop.Next() : null, _ringSends);
        }
    }

    public ValueTask DisposeAsync()
    {
        _listening.Dispose();
        return ValueTask.CompletedTask;
    }
}
