using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sol.Bench.Transport;

/// <summary>
/// Broadcast fan-out: <c>clients</c> subscribers that count what they read, and one publisher whose messages the
/// server sends to every subscriber. At a rate the publisher sends on a timer; flat out it keeps at most
/// <c>window</c> broadcasts undelivered (counted over all subscribers), so the server is busy all the time but no
/// queue grows without bound.
/// </summary>
public sealed class BroadcastLoad : IAsyncDisposable
{
    private static readonly TimeSpan s_stallTimeout = TimeSpan.FromSeconds(10);

    private readonly RawWebSocketClient[] _subscribers;
    private readonly RawWebSocketClient _publisher;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Task[] _loops;
    private long _delivered;
    private long _wakeAt = long.MaxValue;
    private int _waiting;
    private long _sent;

    private BroadcastLoad(RawWebSocketClient[] subscribers, RawWebSocketClient publisher)
    {
        _subscribers = subscribers;
        _publisher = publisher;
        _loops = subscribers.Select(ReceiveLoopAsync).ToArray();
    }

    public int Clients => _subscribers.Length;

    /// <summary>Messages read by all subscribers so far.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Broadcasts sent so far (each is <see cref="Clients"/> messages once delivered).</summary>
    public long Sent => Volatile.Read(ref _sent);

    public static async Task<BroadcastLoad> ConnectAsync(IPEndPoint server, int clients)
    {
        var subscribers = await EndToEndBench.ConnectAsync(server, "/ws?role=sub", clients, 16 * 1024);
        var publisher = (await EndToEndBench.ConnectAsync(server, "/ws?role=pub", 1, 4096))[0];
        return new BroadcastLoad(subscribers, publisher);
    }

    /// <summary>
    /// Publishes <paramref name="burst"/> <paramref name="payloadLength"/>-byte messages (in one socket write) at a time,
    /// at <paramref name="hertz"/> (0 = flat out) until
    /// <paramref name="stop"/>; throws <see cref="TimeoutException"/> when deliveries stop.
    /// </summary>
    public async Task PublishAsync(int payloadLength, int burst, double hertz, int window, CancellationToken stop)
    {
        var frame = RawWebSocketClient.MaskedFrames(payloadLength, text: false, burst);
        try
        {
            if (hertz > 0)
            {
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / hertz));
                while (await timer.WaitForNextTickAsync(stop))
                {
                    await _publisher.SendAsync(frame, stop);
                    Interlocked.Add(ref _sent, burst);
                }
                return;
            }
            var clients = _subscribers.Length;
            while (!stop.IsCancellationRequested)
            {
                // At most `limit` messages per subscriber undelivered after this write; once blocked, wait until at
                // least half of that has drained (and enough for the next write).
                var sent = _sent;
                var limit = Math.Max(window, burst);
                if ((sent + burst - limit) * clients > Delivered)
                {
                    Volatile.Write(ref _wakeAt, Math.Max(sent + burst - limit, sent - limit / 2) * clients);
                    Volatile.Write(ref _waiting, 1);
                    if (Delivered >= Volatile.Read(ref _wakeAt) && Interlocked.Exchange(ref _waiting, 0) == 1)
                    {
                        continue;
                    }
                    if (!await _signal.WaitAsync(s_stallTimeout, stop))
                    {
                        throw new TimeoutException($"deliveries stopped at {Delivered:N0} of {sent * clients:N0}");
                    }
                    continue;
                }
                await _publisher.SendAsync(frame, stop);
                Interlocked.Add(ref _sent, burst);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits until every broadcast sent so far has reached every subscriber.</summary>
    public async Task<bool> DrainAsync()
    {
        var clock = Stopwatch.StartNew();
        while (Delivered < Sent * _subscribers.Length)
        {
            if (clock.Elapsed > s_stallTimeout)
            {
                return false;
            }
            await Task.Delay(10);
        }
        return true;
    }

    private async Task ReceiveLoopAsync(RawWebSocketClient client)
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                var read = await client.ReceiveAsync(_stop.Token);
                if (read < 0)
                {
                    return;
                }
                if (read > 0 && Interlocked.Add(ref _delivered, read) >= Volatile.Read(ref _wakeAt) &&
                    Interlocked.Exchange(ref _waiting, 0) == 1)
                {
                    _signal.Release();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _publisher.Dispose();
        foreach (var client in _subscribers)
        {
            client.Dispose();
        }
        await Task.WhenAll(_loops);
        _stop.Dispose();
        _signal.Dispose();
    }
}
