using System.Collections.Concurrent;
using System.Net.WebSockets;
using Google.FlatBuffers;
using Sol.Core.Protocol;
using Sol.Protocol;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>
/// A test player over a real <see cref="ClientWebSocket"/>: connects with a token, verifies and keeps every server
/// message, and waits for conditions with deadlines.
/// </summary>
public sealed class GameClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly ClientMessageWriter _writer = new();
    private readonly ProtocolVerifier _verifier = new();
    private readonly ConcurrentQueue<byte[]> _received = new();
    private readonly List<byte[]> _all = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private uint _seq;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    public bool Closed { get; private set; }

    public int InvalidMessages { get; private set; }

    public static Task<GameClient> ConnectAsync(TestServer server, string token, string? clientId = null, bool tokenInQuery = false) =>
        ConnectAsync(server.Server.GameEndpoint.Port, token, clientId, tokenInQuery);

    public static async Task<GameClient> ConnectAsync(int gamePort, string token, string? clientId = null, bool tokenInQuery = false)
    {
        var client = new GameClient();
        client._socket.Options.AddSubProtocol("sol.v1");
        var query = tokenInQuery ? $"?access_token={Uri.EscapeDataString(token)}" : "";
        if (clientId is not null)
        {
            query += (query.Length == 0 ? "?" : "&") + $"client_id={clientId}";
        }
        if (!tokenInQuery)
        {
            client._socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client._socket.ConnectAsync(new Uri($"ws://127.0.0.1:{gamePort}/ws{query}"), timeout.Token);
        client._loop = Task.Run(client.ReceiveLoopAsync);
        return client;
    }

    /// <summary>Every message received so far, decoded.</summary>
    public List<ServerMessage> Messages
    {
        get
        {
            while (_received.TryDequeue(out var bytes))
            {
                _all.Add(bytes);
            }
            return [.. _all.Select(b => ServerMessage.GetRootAsServerMessage(new ByteBuffer(b)))];
        }
    }

    public IEnumerable<T> Of<T>(ServerPayload type, Func<ServerMessage, T> read) => Messages.Where(m => m.PayloadType == type).Select(read);

    public async Task<T> WaitForAsync<T>(ServerPayload type, Func<ServerMessage, T> read, Func<T, bool>? predicate = null, double seconds = 10)
    {
        T? found = default;
        await Eventually.TrueAsync(
            () =>
            {
                foreach (var m in Messages)
                {
                    if (m.PayloadType == type && (predicate is null || predicate(read(m))))
                    {
                        found = read(m);
                        return true;
                    }
                }
                return false;
            },
            TimeSpan.FromSeconds(seconds),
            $"a {type} message");
        return found!;
    }

    /// <summary>True once a snapshot has shown the entity <paramref name="entity"/>.</summary>
    public bool Sees(uint entity) =>
        Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot()).Any(s => Enumerable.Range(0, s.EntitiesLength).Any(i => s.Entities(i)!.Value.Id == entity));

    /// <summary>The entity's state in the latest snapshot that shows it.</summary>
    public EntityState Latest(uint entity) => Track(entity)[^1].State;

    /// <summary>The tick of the newest snapshot received (0 before the first).</summary>
    public ulong LastTick => Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot().Tick).DefaultIfEmpty().Max();

    /// <summary>The entity's state in every snapshot that shows it, oldest first, with the snapshot's tick.</summary>
    public List<(ulong Tick, EntityState State)> Track(uint entity)
    {
        var track = new List<(ulong, EntityState)>();
        foreach (var s in Of(ServerPayload.Snapshot, m => m.PayloadAsSnapshot()))
        {
            for (var i = 0; i < s.EntitiesLength; i++)
            {
                if (s.Entities(i)!.Value.Id == entity)
                {
                    track.Add((s.Tick, s.Entities(i)!.Value));
                }
            }
        }
        return track;
    }

    /// <summary>Waits until a snapshot shows the entity, then returns its latest state.</summary>
    public async Task<EntityState> WaitForEntityAsync(uint entity, double seconds = 10)
    {
        await Eventually.TrueAsync(() => Sees(entity), TimeSpan.FromSeconds(seconds), $"entity {entity} in a snapshot");
        return Latest(entity);
    }

    public Task WaitClosedAsync(double seconds = 10) => Eventually.TrueAsync(() => Closed, TimeSpan.FromSeconds(seconds), "the server to close the connection");

    public Task SendInputAsync(float thrust, float turn) => SendAsync(_writer.Input(++_seq, thrust, turn, false));

    public uint LastSeq => _seq;

    public Task SendAsync(ArraySegment<byte> message) => _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);

    public ClientMessageWriter Writer => _writer;

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                    filled += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Answer the server's close, as browsers and ws do.
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    }
                    break;
                }
                var bytes = buffer[..filled];
                if (!_verifier.VerifyServerMessage(new ByteBuffer(bytes)))
                {
                    InvalidMessages++;
                }
                _received.Enqueue(bytes);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        Closed = true;
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        _socket.Dispose();
        _stop.Dispose();
    }
}
