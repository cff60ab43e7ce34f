using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Google.FlatBuffers;
using Sol.Core.Mathematics;
using Sol.Core.Protocol;
using Sol.Protocol;

namespace Sol.LoadGen;

/// <summary>
/// One bot: logs in as a guest with its own device id, fetches the asset manifest, connects, reads every server
/// message (verified, then decoded in place) and sends inputs at the input rate; travel bots fly to gates and planets.
/// Split by concern: <c>Bot.cs</c> (connection and messages), <c>Bot.Pilot.cs</c> (what to send).
/// </summary>
/// <remarks>
/// Per bot: one receive loop and one send loop (a <see cref="PeriodicTimer"/>); a receive buffer that grows only when a
/// message does not fit; one FlatBuffers writer and one verifier. Receiving and sending allocate nothing per message.
/// The loops share the ship's last known state through plain fields: a torn read costs a bot one slightly wrong
/// steering decision, nothing else.
/// </remarks>
internal sealed partial class Bot
{
    private const int SeqRing = 1024;

    private readonly int _index;
    private readonly Scenario _scenario;
    private readonly LoadGenOptions _options;
    private readonly HttpClient _http;
    private readonly Measurements _m;
    private readonly ClientMessageWriter _writer = new();
    private readonly ProtocolVerifier _verifier = new();
    private readonly long[] _sentAt = new long[SeqRing];
    private DeterministicRandom _random;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private ByteBuffer _bb;
    private uint _seq;
    private uint _acked;
    private long _lastSnapshotAt;
    private string? _clientId;
    private string? _token;

    public Bot(int index, Scenario scenario, LoadGenOptions options, HttpClient http, Measurements measurements)
    {
        _index = index;
        _scenario = scenario;
        _options = options;
        _http = http;
        _m = measurements;
        _random = DeterministicRandom.ForStream(options.Seed, (ulong)index + 1);
        _bb = new ByteBuffer(_buffer);
    }

    public bool Welcomed { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            if (!await LoginAsync(stop).ConfigureAwait(false))
            {
                return;
            }
            // The first connection, then up to three tries to reconnect after a drop, a second apart; a try that does not
            // get in (the server restarting) is one of the three.
            var lost = false;
            for (var attempt = 0; attempt < 4 && !stop.IsCancellationRequested; attempt++)
            {
                var played = await PlayAsync(stop, reconnecting: lost).ConfigureAwait(false);
                if (played == Played.NeverOpened && !lost)
                {
                    return; // the first connection failed: counted as its error, the bot does not play
                }
                if (played == Played.Lost)
                {
                    lost = true;
                    _m.Disconnect();
                }
                if (played == Played.RunOver || stop.IsCancellationRequested)
                {
                    return;
                }
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }

    private async Task<bool> LoginAsync(CancellationToken stop)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.PostAsJsonAsync(new Uri(_options.Http, "/api/auth/guest"), new { deviceId = $"{_options.DevicePrefix}-{_options.Seed}-{_index}" }, stop).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                _m.Error($"login:http-{(int)response.StatusCode}");
                return false;
            }
            var body = await response.Content.ReadFromJsonAsync<LoginReply>(stop).ConfigureAwait(false);
            _token = body?.Token;
            Measurements.Record(_m.Login, start);
            using var manifest = await _http.GetAsync(new Uri(_options.Http, "/api/assets"), stop).ConfigureAwait(false);
            if (!manifest.IsSuccessStatusCode)
            {
                _m.Error("assets");
            }
            return _token is not null;
        }
        catch (HttpRequestException e)
        {
            _m.Error($"login:{e.HttpRequestError}");
            return false;
        }
        catch (TaskCanceledException) when (!stop.IsCancellationRequested)
        {
            _m.Error("login:timeout");
            return false;
        }
    }

    private enum Played
    {
        /// <summary>The connection did not open (its error is counted).</summary>
        NeverOpened,

        /// <summary>The connection opened and was lost before the run ended.</summary>
        Lost,

        /// <summary>The run ended with the connection open.</summary>
        RunOver,
    }

    /// <summary>One connection, until the run ends or the connection is lost.</summary>
    /// <param name="stop">The run's end.</param>
    /// <param name="reconnecting">Whether this is a try to reconnect after a drop (counted as a reconnect once it opens).</param>
    private async Task<Played> PlayAsync(CancellationToken stop, bool reconnecting)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true; // a refused upgrade's status, for the error's name
        socket.Options.AddSubProtocol(ProtocolVersion.V1);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {_token}");
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = _clientId is null ? _options.Game : new Uri($"{_options.Game}?client_id={_clientId}");
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(_options.ConnectTimeout);
            await socket.ConnectAsync(uri, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException && !stop.IsCancellationRequested)
        {
            // An upgrade answered with an HTTP status (a wrong path: 404; a full server: 503) says so; no answer at all
            // (nothing listening, a reset) is "refused".
            _m.Error(e is OperationCanceledException ? "connect:timeout" : socket.HttpStatusCode is var status and not 0 ? $"connect:http-{(int)status}" : "connect:refused");
            return Played.NeverOpened;
        }
        if (reconnecting)
        {
            _m.Reconnect();
        }
        _connectStarted = start;
        _m.BotConnected();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var receiving = ReceiveLoopAsync(socket, session.Token);
        var sending = SendLoopAsync(socket, session.Token);
        await Task.WhenAny(receiving, sending).ConfigureAwait(false);
        await session.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(receiving, sending).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _m.BotDisconnected();
        if (stop.IsCancellationRequested && socket.State == WebSocketState.Open)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "load run over", closing.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
        else if (socket.CloseStatus is { } status)
        {
            _m.Error($"closed:{(int)status}");
        }
        return stop.IsCancellationRequested ? Played.RunOver : Played.Lost;
    }

    private long _connectStarted;

    private async Task ReceiveLoopAsync(ClientWebSocket socket, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (filled == _buffer.Length)
                    {
                        Grow();
                    }
                    result = await socket.ReceiveAsync(_buffer.AsMemory(filled), stop).ConfigureAwait(false);
                    filled += result.Count;
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                _m.MessageIn(filled);
                Handle(filled);
            }
        }
        catch (WebSocketException)
        {
            // The connection broke; PlayAsync counts it.
        }
    }

    /// <summary>Feeds one server message as if received (tests).</summary>
    internal void Receive(ReadOnlySpan<byte> message)
    {
        while (_buffer.Length < message.Length)
        {
            Grow();
        }
        message.CopyTo(_buffer);
        _m.MessageIn(message.Length);
        Handle(message.Length);
    }

    /// <summary>Marks a Colonize of planet <paramref name="planet"/> as sent now (the pilot, and tests).</summary>
    internal void ColonizeSent(uint planet)
    {
        _colonizePlanet = planet;
        _colonizeAt = Stopwatch.GetTimestamp();
        Volatile.Write(ref _colonize, (int)ColonizeStep.Waiting);
    }

    /// <summary>Marks input <paramref name="seq"/> as sent now (tests).</summary>
    internal void Sent(uint seq) => _sentAt[seq % SeqRing] = Stopwatch.GetTimestamp();

    private void Grow()
    {
        var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
        _buffer.CopyTo(bigger, 0);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
        _bb = new ByteBuffer(_buffer);
    }

    private void Handle(int length)
    {
        // The message is at the start of the buffer; bytes after it are stale but inside the array, so reads stay safe.
        _bb.Position = 0;
        if (!_verifier.VerifyServerMessage(_bb))
        {
            _m.Error("protocol:invalid-message");
            return;
        }
        _ = length;
        var message = ServerMessage.GetRootAsServerMessage(_bb);
        switch (message.PayloadType)
        {
            case ServerPayload.Welcome:
                var welcome = message.PayloadAsWelcome();
                _clientId = welcome.ClientId;
                if (!Welcomed)
                {
                    Measurements.Record(_m.ConnectToWelcome, _connectStarted);
                }
                Welcomed = true;
                if (_playerId.Length == 0)
                {
                    _playerId = welcome.GetPlayerIdBytes() is { } id ? id.ToArray() : [];
                }
                break;
            case ServerPayload.ZoneEnter:
                OnZoneEnter(message.PayloadAsZoneEnter());
                break;
            case ServerPayload.Snapshot:
                OnSnapshot(message.PayloadAsSnapshot());
                break;
            case ServerPayload.Ack:
                OnAck(message.PayloadAsAck().LastSeq);
                break;
            case ServerPayload.Error:
                OnError(message.PayloadAsError().Code);
                break;
            case ServerPayload.ColonyInfo:
                OnColonyInfo(message.PayloadAsColonyInfo());
                break;
        }
    }

    private void OnSnapshot(Snapshot snapshot)
    {
        _m.Snapshot();
        var now = Stopwatch.GetTimestamp();
        if (_lastSnapshotAt != 0)
        {
            Measurements.Record(_m.SnapshotGap, Stopwatch.GetElapsedTime(_lastSnapshotAt, now));
        }
        _lastSnapshotAt = now;
        if (snapshot.ZoneId != _zoneId)
        {
            return;
        }
        var count = snapshot.EntitiesLength;
        for (var i = 0; i < count; i++)
        {
            var e = snapshot.Entities(i)!.Value;
            if (e.Id == _entity)
            {
                (_x, _y, _vx, _vy, _rotation) = (e.X, e.Y, e.Vx, e.Vy, e.Rotation);
                _zoneTime = snapshot.Time;
                _zoneTimeAt = now;
                _hasShip = true;
                break;
            }
        }
        for (var i = 0; i < snapshot.EventsLength; i++)
        {
            var e = snapshot.Events(i)!.Value;
            if (e.Entity == _entity && e.Kind == EventKind.Destroyed)
            {
                OnDestroyed();
            }
        }
    }

    private void OnAck(uint lastSeq)
    {
        var now = Stopwatch.GetTimestamp();
        // Every input up to lastSeq is now applied (the zone keeps the latest per tick): each is timed once.
        for (var seq = _acked + 1; seq <= lastSeq && seq - _acked <= SeqRing; seq++)
        {
            ref var sent = ref _sentAt[seq % SeqRing];
            if (sent != 0)
            {
                Measurements.Record(_m.InputToAck, Stopwatch.GetElapsedTime(sent, now));
                sent = 0;
            }
        }
        if (lastSeq > _acked)
        {
            _acked = lastSeq;
        }
    }

    private async Task SendAsync(ClientWebSocket socket, ArraySegment<byte> message, CancellationToken stop)
    {
        await socket.SendAsync(message, WebSocketMessageType.Binary, true, stop).ConfigureAwait(false);
        _m.MessageOut(message.Count);
    }

    private sealed record LoginReply(string Token, DateTimeOffset ExpiresAt, Guid PlayerId);
}
