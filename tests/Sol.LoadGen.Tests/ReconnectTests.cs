using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Sol.Core.Protocol;
using Sol.Testing;

namespace Sol.LoadGen.Tests;

/// <summary>A bot whose connection drops tries to reconnect, up to three times, a try that does not get in included.</summary>
public sealed class ReconnectTests
{
    [Fact]
    public async Task ABotReconnectsThroughARefusedTryAndCountsOnlyTheReconnectThatGotIn()
    {
        // The game port drops the first connection, answers the second with 503 (a server restarting behind a proxy),
        // and keeps the third. Before, the refused try ended the bot's reconnecting (the docs said three tries), was
        // counted as a reconnect, and named "connect:refused" without its status.
        await using var server = new FlakyGamePort();
        var m = new Measurements();
        using var http = new HttpClient();
        var options = new LoadGenOptions
        {
            Http = new Uri($"http://127.0.0.1:{server.Port}"),
            Game = new Uri($"ws://127.0.0.1:{server.Port}/ws"),
            Scenario = Scenario.Idle,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            Live = false,
        };
        var bot = new Bot(0, Scenario.Idle, options, http, m);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a bound; the test ends it much sooner
        var run = bot.RunAsync(stop.Token);

        // The bot's count, not the server's flag: the server keeps the connection before the bot's connect returns.
        await Eventually.TrueAsync(() => m.Reconnects == 1 && server.Kept, TimeSpan.FromSeconds(30), "the third connection to be kept");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, server.Upgrades);
        Assert.Equal(1, m.Disconnects);
        Assert.Equal(1, m.Reconnects);
        Assert.Equal(1, m.Errors["connect:http-503"]);
        Assert.False(m.Errors.ContainsKey("connect:refused"));
    }

    /// <summary>
    /// 127.0.0.1, port 0: a guest login and the assets answer 200; the game path's upgrades are, in turn, accepted and
    /// dropped at once, refused with 503, then accepted and kept (read until the test ends).
    /// </summary>
    private sealed class FlakyGamePort : LoopbackServer
    {
        private int _upgrades;
        private volatile bool _kept;

        public FlakyGamePort() => Start();

        public int Upgrades => Volatile.Read(ref _upgrades);

        public bool Kept => _kept;

        protected override async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var (path, key, length) = await ReadHeadAsync(stream);
                    if (length > 0)
                    {
                        await stream.ReadExactlyAsync(new byte[length], Stopping); // the login's body
                    }
                    if (path != "/ws")
                    {
                        var body = path.StartsWith("/api/auth/guest", StringComparison.Ordinal) ? """{"token":"t","expiresAt":"2030-01-01T00:00:00Z","playerId":"00000000-0000-0000-0000-000000000001"}""" : "{}";
                        await WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
                        return;
                    }
                    switch (Interlocked.Increment(ref _upgrades))
                    {
                        case 2:
                            await WriteAsync(stream, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                            return;
                        case var n:
                            var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
                            await WriteAsync(stream, $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {ProtocolVersion.V1}\r\n\r\n");
                            if (n == 1)
                            {
                                client.Client.LingerState = new LingerOption(true, 0); // dropped: a reset, no close frame
                                return;
                            }
                            using (var socket = WebSocket.CreateFromStream(stream, isServer: true, ProtocolVersion.V1, Timeout.InfiniteTimeSpan))
                            {
                                _kept = true;
                                var buffer = new byte[4096];
                                while (socket.State == WebSocketState.Open)
                                {
                                    await socket.ReceiveAsync(buffer, Stopping);
                                }
                            }
                            return;
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or WebSocketException)
                {
                }
            }
        }

        /// <summary>The request line's path, the Sec-WebSocket-Key and the Content-Length of a request head.</summary>
        private async Task<(string Path, string Key, int Length)> ReadHeadAsync(NetworkStream stream)
        {
            // Byte by byte, so that nothing after the head (a body, the first frame) is taken from the stream.
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one, Stopping) == 0)
                {
                    throw new IOException("closed before the head ended");
                }
                head.Append((char)one[0]);
            }
            var lines = head.ToString().Split("\r\n");
            string Header(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim() ?? "";
            return (lines[0].Split(' ')[1], Header("Sec-WebSocket-Key"), int.TryParse(Header("Content-Length"), out var length) ? length : 0);
        }

        private Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text), Stopping).AsTask();
    }
}
