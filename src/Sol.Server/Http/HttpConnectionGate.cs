using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sol.Server.Metrics;

namespace Sol.Server.Http;

/// <summary>
/// Kestrel connection middleware of the HTTP API: at most <c>total</c> connections (the open-file budget's share), and
/// at most <c>perAddress</c> from one client address (an IPv4 address or an IPv6 /64; loopback and the trusted proxies,
/// which carry everyone's requests, are not limited). A connection over either is closed at once, before a byte is
/// read. Before, one address could hold every HTTP connection with slowly sent request heads for 30 s at a time (the
/// whole API, logins and /healthz, unreachable), and each refused connection was a warning line of Kestrel's (17,000
/// in 3 s). Refusals are counted (<c>sol_http_connections_refused_total</c>) and logged at most once per 10 s.
/// </summary>
internal sealed class HttpConnectionGate(long? total, int perAddress, IReadOnlyList<IPNetwork> trustedProxies, ServerMetrics metrics, ILogger log, TimeProvider time)
{
    private static readonly TimeSpan s_logEvery = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, int> _byAddress = new(StringComparer.Ordinal);
    private long _open;
    private long _refusedTotal; // since the last warning
    private long _refusedPerAddress;
    private long _nextLog = long.MinValue; // UTC ticks

    /// <summary>Connections open now (tests).</summary>
    public long Open => Interlocked.Read(ref _open);

    public async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var key = Limited(connection.RemoteEndPoint) is { } address ? AuthEndpoints.AddressGroup(address) : null;
        if (Interlocked.Increment(ref _open) > (total ?? long.MaxValue))
        {
            Interlocked.Decrement(ref _open);
            Refuse(ref _refusedTotal);
            return;
        }
        if (key is not null && perAddress > 0 && _byAddress.AddOrUpdate(key, 1, static (_, n) => n + 1) > perAddress)
        {
            Release(key);
            Interlocked.Decrement(ref _open);
            Refuse(ref _refusedPerAddress);
            return;
        }
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            if (key is not null && perAddress > 0)
            {
                Release(key);
            }
            Interlocked.Decrement(ref _open);
        }
    }

    /// <summary>The client address the per-address limit applies to, or null for loopback and the trusted proxies.</summary>
    private IPAddress? Limited(EndPoint? remote)
    {
        if (remote is not IPEndPoint { Address: var address } || IPAddress.IsLoopback(address)) // ::ffff:127.0.0.1 too
        {
            return null;
        }
        foreach (var proxy in trustedProxies)
        {
            if (proxy.Contains(address) || (address.IsIPv4MappedToIPv6 && proxy.Contains(address.MapToIPv4())))
            {
                return null;
            }
        }
        return address;
    }

    private void Release(string key)
    {
        // Down by one; the entry goes when it reaches 0 (only if it is still 0: another connection may have come).
        var now = _byAddress.AddOrUpdate(key, 0, static (_, n) => n - 1);
        if (now <= 0)
        {
            _byAddress.TryRemove(new KeyValuePair<string, int>(key, 0));
        }
    }

    private void Refuse(ref long counter)
    {
        Interlocked.Increment(ref counter);
        metrics.HttpConnectionRefused();
        var nowTicks = time.GetUtcNow().UtcTicks;
        var due = Interlocked.Read(ref _nextLog);
        if (nowTicks < due || Interlocked.CompareExchange(ref _nextLog, nowTicks + s_logEvery.Ticks, due) != due)
        {
            return;
        }
        var overTotal = Interlocked.Exchange(ref _refusedTotal, 0);
        var overAddress = Interlocked.Exchange(ref _refusedPerAddress, 0);
        log.LogWarning(
            "HTTP: connections refused ({OverAddress} over {PerAddress} from one address, {OverTotal} over {Total} in all; counted in sol_http_connections_refused_total, this line at most every 10 s)",
            overAddress, perAddress, overTotal, total?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no limit");
    }
}
