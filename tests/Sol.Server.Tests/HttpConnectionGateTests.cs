using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Sol.Server.Http;
using Sol.Server.Metrics;

namespace Sol.Server.Tests;

public sealed class HttpConnectionGateTests
{
    private readonly ServerMetrics _metrics = new();
    private readonly ListLogger _log = new();
    private readonly ManualTime _time = new();

    [Fact]
    public async Task OneAddressGetsItsShareAndNoMoreWhileOthersStillGetIn()
    {
        var gate = new HttpConnectionGate(total: 100, perAddress: 2, [], _metrics, _log, _time);
        var held = new TaskCompletionSource();
        var served = 0;
        ConnectionDelegate next = async _ =>
        {
            Interlocked.Increment(ref served);
            await held.Task;
        };
        var a1 = gate.RunAsync(Connection("203.0.113.7"), next);
        var a2 = gate.RunAsync(Connection("203.0.113.7"), next);
        var a3 = gate.RunAsync(Connection("203.0.113.7"), next); // one too many: closed at once
        var v6 = new[] { gate.RunAsync(Connection("2001:db8:1:2::1"), next), gate.RunAsync(Connection("2001:db8:1:2::ff"), next) };
        var v6Third = gate.RunAsync(Connection("2001:db8:1:2:abcd::9"), next); // the same /64
        var other = gate.RunAsync(Connection("198.51.100.1"), next);
        var local = Enumerable.Range(0, 5).Select(_ => gate.RunAsync(Connection("127.0.0.1"), next)).ToList(); // not limited

        Assert.True(a3.IsCompleted);
        Assert.True(v6Third.IsCompleted);
        Assert.DoesNotContain([a1, a2, .. v6, other, .. local], t => t.IsCompleted);
        Assert.Equal(2 + 2 + 1 + 5, served);
        Assert.Equal(10, gate.Open);
        Assert.Contains("sol_http_connections_refused_total 2", _metrics.Render(), StringComparison.Ordinal);

        // Their connections end: the address may connect again.
        held.SetResult();
        await Task.WhenAll([a1, a2, .. v6, other, .. local]);
        Assert.Equal(0, gate.Open);
        var again = new TaskCompletionSource();
        var back = gate.RunAsync(Connection("203.0.113.7"), async _ => await again.Task);
        Assert.False(back.IsCompleted);
        again.SetResult();
        await back;
    }

    [Fact]
    public async Task TheTotalHoldsForEveryoneAndTrustedProxiesAreNotLimitedPerAddress()
    {
        var gate = new HttpConnectionGate(total: 3, perAddress: 1, [IPNetwork.Parse("10.0.0.0/8")], _metrics, _log, _time);
        var held = new TaskCompletionSource();
        ConnectionDelegate next = async _ => await held.Task;
        var proxied = Enumerable.Range(0, 3).Select(_ => gate.RunAsync(Connection("10.1.2.3"), next)).ToList();
        var fourth = gate.RunAsync(Connection("127.0.0.1"), next);

        Assert.DoesNotContain(proxied, t => t.IsCompleted); // a proxy carries everyone's: no per-address limit
        Assert.True(fourth.IsCompleted); // over the total
        held.SetResult();
        await Task.WhenAll(proxied);
    }

    [Fact]
    public void RefusalsAreOneWarningLineEveryTenSeconds()
    {
        var gate = new HttpConnectionGate(total: 0, perAddress: 0, [], _metrics, _log, _time);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(gate.RunAsync(Connection("203.0.113.7"), _ => Task.CompletedTask).IsCompleted);
        }
        Assert.Single(_log.Warnings);
        _time.Advance(TimeSpan.FromSeconds(11));
        _ = gate.RunAsync(Connection("203.0.113.7"), _ => Task.CompletedTask);
        Assert.Equal(2, _log.Warnings.Count);
        Assert.Contains("1000 over 0 in all", _log.Warnings[1], StringComparison.Ordinal); // the 999 since the first line, and this one
        Assert.Contains("sol_http_connections_refused_total 1001", _metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerAtItsConnectionLimitRefusesMoreAndServesAgainWhenOneCloses()
    {
        await using var server = await TestServer.StartAsync(configure: o => o with { MaxHttpConnections = 3 });
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.Http.BaseAddress!.Port);
        var idle = new List<Socket>();
        try
        {
            // Three connections that send nothing (a slow request head) fill the limit. The server cuts such a head after
            // 10 s (RequestHeadersTimeout): a slow machine that took longer than that opens them again.
            await Sol.Testing.Eventually.TrueAsync(() =>
            {
                idle.ForEach(s => s.Dispose());
                idle.Clear();
                for (var i = 0; i < 3; i++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    socket.Connect(endpoint);
                    idle.Add(socket);
                }
                return Probe(endpoint) is false || Probe(endpoint) is false;
            }, TimeSpan.FromSeconds(40), "the fourth connection to be refused");
            idle[0].Dispose();
            await Sol.Testing.Eventually.TrueAsync(() => Probe(endpoint) is true, TimeSpan.FromSeconds(10), "a connection to be served again");
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    /// <summary>Whether a fresh connection's GET /healthz is answered.</summary>
    private static bool Probe(IPEndPoint endpoint)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
        socket.Connect(endpoint);
        socket.Send("GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"u8);
        var buffer = new byte[64];
        try
        {
            var read = socket.Receive(buffer);
            return read > 0 && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false; // reset
        }
    }

    private static DefaultConnectionContext Connection(string address) =>
        new(Guid.NewGuid().ToString("N")) { RemoteEndPoint = new IPEndPoint(IPAddress.Parse(address), 40000) };

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
