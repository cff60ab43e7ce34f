using System.Net;
using System.Net.Sockets;

namespace Sol.Bench.Transport;

/// <summary>
/// The reference row, not a product: about the least work a .NET WebSocket server can do per message. Plain
/// <see cref="System.Net.Sockets"/>: an accept loop, one receive loop per connection (<see cref="DirectConnection"/>),
/// and every answer sent with blocking <see cref="Socket.Send(ReadOnlySpan{byte})"/> on the thread that received the
/// message. A broadcast is framed once (in place, in the publisher's receive buffer) and sent to each subscriber in
/// turn: one <c>send</c> system call per subscriber, no queue, no pipe, no thread hop, no coalescing.
/// </summary>
/// <remarks>
/// What it leaves out is what a real server needs: there is no backpressure (a subscriber whose socket buffer is full
/// blocks the publisher's thread, and with it every other subscriber), no idle timeout or keep-alive, no UTF-8
/// validation, no limit on connections. Its cost per message is close to the floor the kernel sets when every message
/// is its own <c>send</c>, so its ratio to ASP.NET Core is about the highest any server that sends each message as it
/// is produced could reach in the same run.
/// </remarks>
public sealed class DirectBenchServer : IBenchServer
{
    private readonly Socket _listener;
    private readonly CopyOnWriteList<DirectConnection> _subscribers = new();
    private readonly Lock _lock = new();

    /// <summary>Every accepted connection whose loop is running, so that <see cref="DisposeAsync"/> can close them.</summary>
    private readonly HashSet<DirectConnection> _open = [];

    private readonly Task _accepting;
    private int _connections;

    private DirectBenchServer(Socket listener)
    {
        _listener = listener;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public int Connections => Volatile.Read(ref _connections);

    public static Task<IBenchServer> StartAsync(int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen();
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return Task.FromResult<IBenchServer>(new DirectBenchServer(listener));
    }

    /// <summary>Called by a connection once it is upgraded: a subscriber joins the broadcasts, and it is counted.</summary>
    internal void Opened(DirectConnection connection)
    {
        if (connection.Role == DirectRole.Subscriber)
        {
            _subscribers.Add(connection);
        }
        Interlocked.Increment(ref _connections);
    }

    /// <summary>Called by an upgraded connection when its loop ends.</summary>
    internal void Closed(DirectConnection connection)
    {
        if (connection.Role == DirectRole.Subscriber)
        {
            _subscribers.Remove(connection);
        }
        Interlocked.Decrement(ref _connections);
    }

    /// <summary>Sends one frame to every subscriber in turn, on the calling thread (the publisher's receive loop).</summary>
    internal void Broadcast(ReadOnlySpan<byte> frame)
    {
        foreach (var subscriber in _subscribers.Items)
        {
            try
            {
                subscriber.Send(frame);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // That subscriber is gone; its own loop removes it.
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The listener was closed.
                return;
            }
            socket.NoDelay = true;
            var connection = new DirectConnection(this, socket);
            lock (_lock)
            {
                _open.Add(connection);
            }
            _ = RunAsync(connection);
        }
    }

    private async Task RunAsync(DirectConnection connection)
    {
        await connection.RunAsync();
        lock (_lock)
        {
            _open.Remove(connection);
        }
    }

    /// <summary>Stops accepting and closes every connection (their loops end on their own).</summary>
    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _accepting;
        DirectConnection[] open;
        lock (_lock)
        {
            open = [.. _open];
        }
        foreach (var connection in open)
        {
            connection.Abort();
        }
    }
}
