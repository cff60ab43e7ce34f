using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sol.Transport.Sockets;

/// <summary>Accepts through Kestrel's socket transport (<see cref="SocketTransportFactory"/>), without the rest of Kestrel.</summary>
internal sealed class KestrelSocketListener : ISocketListener
{
    private readonly IConnectionListener _listener;

    private KestrelSocketListener(IConnectionListener listener)
    {
        _listener = listener;
        Endpoint = (IPEndPoint)listener.EndPoint;
    }

    public IPEndPoint Endpoint { get; }

    public static async Task<KestrelSocketListener> BindAsync(IPEndPoint endpoint, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var factory = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers);
        var listener = await factory.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return new KestrelSocketListener(listener);
    }

    public async ValueTask<TransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        try
        {
            var context = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            return context is null ? null : new Connection(context);
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.UnbindAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Connection(ConnectionContext context) : TransportConnection
    {
        public override IDuplexPipe Pipe => context.Transport;

        public override EndPoint? RemoteEndPoint => context.RemoteEndPoint;

        public override void Abort() => context.Abort();

        public override ValueTask DisposeAsync() => context.DisposeAsync();
    }
}
