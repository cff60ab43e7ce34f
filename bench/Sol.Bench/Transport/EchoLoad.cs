using System.Net;

namespace Sol.Bench.Transport;

/// <summary>
/// Echo flat out: every client keeps <c>window</c> messages in flight and sends one more for each echo it reads, until
/// it is disposed.
/// </summary>
public sealed class EchoLoad : IAsyncDisposable
{
    private readonly RawWebSocketClient[] _clients;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;

    private EchoLoad(RawWebSocketClient[] clients, byte[] frames, int frameLength)
    {
        _clients = clients;
        _loops = clients.Select(client => LoopAsync(client, frames, frameLength, _stop.Token)).ToArray();
    }

    /// <summary>Echoes read by all clients so far.</summary>
    public long Delivered => _clients.Sum(c => c.Received);

    public static async Task<EchoLoad> StartAsync(IPEndPoint server, int clients, int payloadLength, int window)
    {
        var connected = await EndToEndBench.ConnectAsync(server, "/ws?role=echo", clients, 4096);
        var frames = RawWebSocketClient.MaskedFrames(payloadLength, text: false, window);
        return new EchoLoad(connected, frames, frames.Length / window);
    }

    private static async Task LoopAsync(RawWebSocketClient client, byte[] frames, int frameLength,
        CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            await client.SendAsync(frames, stop);
            while (true)
            {
                var echoed = await client.ReceiveAsync(stop);
                if (echoed < 0)
                {
                    return;
                }
                if (echoed > 0)
                {
                    await client.SendAsync(frames.AsMemory(0, echoed * frameLength), stop);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }
}
