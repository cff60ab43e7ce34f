using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sol.Transport.Tests.Support;

/// <summary>A raw TCP client: writes exactly the bytes a test wants and reads what comes back until the server closes.</summary>
public sealed class RawClient : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);
    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;

    /// <param name="endpoint">The server.</param>
    /// <param name="configure">Socket options to set before connecting (a small receive buffer, say).</param>
    public static async Task<RawClient> ConnectAsync(IPEndPoint endpoint, Action<Socket>? configure = null)
    {
        var raw = new RawClient();
        configure?.Invoke(raw._client.Client);
        await raw._client.ConnectAsync(endpoint);
        raw._stream = raw._client.GetStream();
        return raw;
    }

    /// <summary>The socket, for what a stream cannot do (a half close, say).</summary>
    public Socket Socket => _client.Client;

    /// <summary>Whether the last frame <see cref="ReadFrameAsync"/> returned had FIN set.</summary>
    public bool LastFin { get; private set; }

    public static string Upgrade(string path = "/ws", string? extraHeaders = null, string key = "dGhlIHNhbXBsZSBub25jZQ==", string version = "13") =>
        $"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
        $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n";

    public Task WriteAsync(string text) => WriteAsync(Encoding.ASCII.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads the HTTP response head (through the blank line) and returns it.</summary>
    public async Task<string> ReadHeadAsync()
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await _stream.ReadAsync(one, timeout.Token) == 0)
            {
                break;
            }
            head.Add(one[0]);
        }
        return Encoding.ASCII.GetString([.. head]);
    }

    /// <summary>Reads everything until the server closes the connection (bounded).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        using var all = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = await _stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                all.Write(buffer, 0, n);
            }
        }
        catch (IOException)
        {
            // a reset after the bytes we got
        }
        // As a well-behaved client: the server closed, so close our side too (the server waits for it, bounded).
        _client.Client.Shutdown(SocketShutdown.Send);
        return all.ToArray();
    }

    /// <summary>Reads one frame from the server (never masked): its opcode and payload.</summary>
    public async Task<(int Opcode, byte[] Payload)> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        var header = new byte[2];
        await _stream.ReadExactlyAsync(header, timeout.Token);
        long length = header[1] & 0x7F;
        if (length >= 126)
        {
            var extended = new byte[length == 126 ? 2 : 8];
            await _stream.ReadExactlyAsync(extended, timeout.Token);
            length = extended.Length == 2 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(extended)
                : (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(extended);
        }
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, timeout.Token);
        LastFin = (header[0] & 0x80) != 0;
        return (header[0] & 0x0F, payload);
    }

    /// <summary>Reads and drops whatever comes for <paramref name="time"/>, or until the server ends the connection.</summary>
    public async Task DrainAsync(TimeSpan time)
    {
        using var timeout = new CancellationTokenSource(time);
        var buffer = new byte[8192];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // time is up, or the server reset the connection
        }
    }

    /// <summary>Ends the connection with a reset instead of a FIN (linger on, zero seconds).</summary>
    public void Reset()
    {
        _client.Client.LingerState = new LingerOption(true, 0);
        _client.Close();
    }

    public static int StatusOf(string head) => head.Length >= 12 && int.TryParse(head.AsSpan(9, 3), out var status) ? status : -1;

    public void Dispose() => _client.Dispose();
}
