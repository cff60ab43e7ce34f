using System.Net;
using System.Net.Sockets;

namespace Sol.LoadGen.Tests;

/// <summary>
/// A stand-in server on 127.0.0.1, port 0: accepts until disposed and hands each connection to <see cref="ServeAsync"/>;
/// disposing cancels <see cref="Stopping"/> and waits for every connection's task.
/// </summary>
internal abstract class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public int Port { get; private set; }

    /// <summary>Cancelled when the server is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Starts listening and accepting (call once, from the subclass's constructor when it is ready).</summary>
    protected void Start()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = AcceptAsync();
    }

    /// <summary>Serves one accepted connection (and disposes it); exceptions of a connection the stop cut short are its own to catch.</summary>
    protected abstract Task ServeAsync(TcpClient client);

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                connections.Add(ServeAsync(await _listener.AcceptTcpClientAsync(_stop.Token)));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        await Task.WhenAll(connections);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_loop is not null)
        {
            await _loop;
        }
        _stop.Dispose();
    }
}
