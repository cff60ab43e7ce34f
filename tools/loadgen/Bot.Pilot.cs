using System.Diagnostics;
using System.Net.WebSockets;
using Sol.Protocol;

namespace Sol.LoadGen;

/// <summary>What a bot sends: steering by scenario, and the travel state machine (gate → jump, planet → land → maybe
/// colonize → take off).</summary>
internal sealed partial class Bot
{
    private const double GateApproach = 0.7; // fraction of the gate radius the bot aims to be inside before jumping
    private const double ColonizeShare = 0.5; // of the landings on which a travel bot asks to found a colony

    private uint _zoneId;
    private ZoneKind _zoneKind;
    private uint _entity;
    private float _x, _y, _vx, _vy, _rotation;
    private bool _hasShip;
    private double _zoneTime;
    private long _zoneTimeAt;
    private (uint Id, float X, float Y, float Radius)[] _gates = [];
    private (uint Id, float Radius, float Orbit, double Period, double Phase)[] _planets = [];

    private TravelGoal _goal;
    private uint _target;
    private long _requestAt;
    private long _landedAt;
    private int _colonize; // a ColonizeStep; the receive loop and the send loop both end a wait (Interlocked)
    private long _colonizeAt;
    private uint _colonizePlanet;
    private byte[] _playerId = []; // UTF-8, as a ColonyInfo's owner is written
    private float _wanderThrust, _wanderTurn;
    private long _wanderUntil;

    private enum TravelGoal
    {
        None,
        Gate,
        Planet,
        WaitingForZone,
        Landed,
    }

    /// <summary>A landing's colonize: not decided yet, to be asked for, asked for (waiting for the answer), or done.</summary>
    private enum ColonizeStep
    {
        Undecided,
        Due,
        Waiting,
        Done,
    }

    private Scenario Behaviour => _scenario;

    private void OnZoneEnter(ZoneEnter enter)
    {
        var now = Stopwatch.GetTimestamp();
        if (_goal == TravelGoal.WaitingForZone && _requestAt != 0)
        {
            Measurements.Record(_m.JumpToZoneEnter, Stopwatch.GetElapsedTime(_requestAt, now));
            switch (enter.ZoneKind)
            {
                case ZoneKind.Planet:
                    _m.Landed();
                    break;
                case ZoneKind.System when _zoneKind == ZoneKind.Planet:
                    _m.TookOff();
                    break;
                default:
                    _m.Jumped();
                    break;
            }
        }
        _zoneId = enter.ZoneId;
        _zoneKind = enter.ZoneKind;
        _entity = enter.Entity;
        _zoneTime = enter.Time;
        _zoneTimeAt = now;
        _hasShip = false;
        _gates = new (uint, float, float, float)[enter.GatesLength];
        for (var i = 0; i < _gates.Length; i++)
        {
            var g = enter.Gates(i)!.Value;
            _gates[i] = (g.Id, g.X, g.Y, g.Radius);
        }
        _planets = new (uint, float, float, double, double)[enter.PlanetsLength];
        for (var i = 0; i < _planets.Length; i++)
        {
            var p = enter.Planets(i)!.Value;
            _planets[i] = (p.Id, p.Radius, p.OrbitRadius, p.Period, p.Phase);
        }
        _requestAt = 0;
        _goal = enter.ZoneKind == ZoneKind.Planet ? TravelGoal.Landed : TravelGoal.None;
        _landedAt = now;
        // A colonize still waiting for its answer keeps waiting (a reconnect's ZoneEnter); the next landing decides anew.
        Interlocked.CompareExchange(ref _colonize, (int)ColonizeStep.Undecided, (int)ColonizeStep.Done);
    }

    /// <summary>
    /// Its own ship burned: it respawns where the snapshot shows it (its home system), or is moved home (a ZoneEnter
    /// follows, which is not the answer to a request). Either way the goal is picked again from where it is next seen,
    /// and a request in flight is answered with an Error{Destroyed} or not at all.
    /// </summary>
    private void OnDestroyed()
    {
        _hasShip = false;
        if (_goal is TravelGoal.Gate or TravelGoal.Planet or TravelGoal.WaitingForZone)
        {
            _goal = TravelGoal.None;
            _requestAt = 0;
        }
    }

    /// <summary>Ends the wait for a colonize's answer; false when it was not waiting or the other loop ended it first.</summary>
    private bool EndColonizeWait() =>
        Interlocked.CompareExchange(ref _colonize, (int)ColonizeStep.Done, (int)ColonizeStep.Waiting) == (int)ColonizeStep.Waiting;

    /// <summary>A colony founded in the bot's zone or system: the answer to its own Colonize when the bot founded it there.</summary>
    private void OnColonyInfo(ColonyInfo colony)
    {
        // Compared as bytes: no string is decoded per message (helper-70).
        if (Volatile.Read(ref _colonize) == (int)ColonizeStep.Waiting && colony.PlanetId == _colonizePlanet &&
            colony.GetOwnerBytes() is { } owner && owner.AsSpan().SequenceEqual(_playerId) && EndColonizeWait())
        {
            Measurements.Record(_m.ColonizeToColonyInfo, _colonizeAt);
            _m.Colonized();
        }
    }

    private void OnError(ErrorCode code)
    {
        // While a colonize waits the bot sends only inputs, so an Error is its answer: a refusal a player meets too (the
        // bot does not track its credits or colonies), or a failed colonize (BadRequest when its transaction failed,
        // TooManyRequests while an earlier one that timed out here is still in flight on the server).
        if (Volatile.Read(ref _colonize) == (int)ColonizeStep.Waiting && EndColonizeWait())
        {
            if (code is ErrorCode.NotEnoughCredits or ErrorCode.AlreadyColonized or ErrorCode.PlanetFull)
            {
                _m.ColonizeRefused();
            }
            else
            {
                _m.RequestFailed();
            }
        }
        if (code == ErrorCode.Destroyed)
        {
            // A request that crossed its ship's burn on the way (the ship is being moved home): the game's answer, not
            // a failure. The goal is picked again once it enters its home system.
            if (_goal == TravelGoal.WaitingForZone)
            {
                _goal = TravelGoal.None;
                _requestAt = 0;
            }
            return;
        }
        if (_goal == TravelGoal.WaitingForZone)
        {
            // The request was refused (too far, most likely): count it and pick a new goal.
            _m.RequestFailed();
            _goal = _zoneKind == ZoneKind.Planet ? TravelGoal.Landed : TravelGoal.None;
            _requestAt = 0;
        }
        _m.Error($"game:{code}");
    }

    private async Task SendLoopAsync(ClientWebSocket socket, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / Math.Max(1, _options.InputRate)));
        var behaviour = Behaviour;
        if (behaviour == Scenario.Mixed)
        {
            var (idle, wander, travel) = _options.Mix;
            var roll = _random.NextInt(1, Math.Max(1, idle + wander + travel));
            behaviour = roll <= idle ? Scenario.Idle : roll <= idle + wander ? Scenario.Wander : Scenario.Travel;
        }
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (!Welcomed || socket.State != WebSocketState.Open)
                {
                    continue;
                }
                var (thrust, turn) = behaviour switch
                {
                    Scenario.Wander => Wander(),
                    Scenario.Travel => await TravelAsync(socket, stop).ConfigureAwait(false),
                    _ => (0f, 0f),
                };
                var seq = ++_seq;
                _sentAt[seq % SeqRing] = Stopwatch.GetTimestamp();
                await SendAsync(socket, _writer.Input(seq, thrust, turn, false), stop).ConfigureAwait(false);
                _m.Input();
            }
        }
        catch (WebSocketException)
        {
            // The connection broke; PlayAsync counts it.
        }
    }

    private (float Thrust, float Turn) Wander()
    {
        var now = Stopwatch.GetTimestamp();
        if (now >= _wanderUntil)
        {
            _wanderThrust = (float)_random.NextDouble(0.2, 1.0);
            _wanderTurn = (float)_random.NextDouble(-1, 1);
            _wanderUntil = now + (long)(Stopwatch.Frequency * _random.NextDouble(1, 2));
        }
        return (_wanderThrust, _wanderTurn);
    }

    private async Task<(float Thrust, float Turn)> TravelAsync(ClientWebSocket socket, CancellationToken stop)
    {
        var now = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref _colonize) == (int)ColonizeStep.Waiting && Stopwatch.GetElapsedTime(_colonizeAt, now) > TimeSpan.FromSeconds(5) &&
            EndColonizeWait())
        {
            _m.RequestFailed(); // no answer within 5 s, wherever the bot is now
        }
        switch (_goal)
        {
            case TravelGoal.WaitingForZone:
                if (Stopwatch.GetElapsedTime(_requestAt, now) > TimeSpan.FromSeconds(5))
                {
                    _m.RequestFailed();
                    _goal = TravelGoal.None;
                }
                return (0, 0);
            case TravelGoal.Landed:
                if (Volatile.Read(ref _colonize) == (int)ColonizeStep.Undecided)
                {
                    Interlocked.CompareExchange(ref _colonize,
                        (int)(_random.NextDouble() < ColonizeShare ? ColonizeStep.Due : ColonizeStep.Done), (int)ColonizeStep.Undecided);
                }
                if (Volatile.Read(ref _colonize) == (int)ColonizeStep.Due && Stopwatch.GetElapsedTime(_landedAt, now) > TimeSpan.FromSeconds(0.5))
                {
                    ColonizeSent(_zoneId);
                    await SendAsync(socket, _writer.Colonize(), stop).ConfigureAwait(false);
                    return (0, 0);
                }
                if (Volatile.Read(ref _colonize) == (int)ColonizeStep.Waiting)
                {
                    return (0, 0); // no take-off before the answer (or the 5 s above)
                }
                if (Stopwatch.GetElapsedTime(_landedAt, now) > TimeSpan.FromSeconds(_random.NextDouble(1, 3)))
                {
                    _goal = TravelGoal.WaitingForZone;
                    _requestAt = now;
                    await SendAsync(socket, _writer.TakeOff(), stop).ConfigureAwait(false);
                }
                return (0, 0);
            case TravelGoal.None:
                if (!_hasShip || (_gates.Length == 0 && _planets.Length == 0))
                {
                    return (0, 0);
                }
                if (_planets.Length > 0 && (_gates.Length == 0 || _random.NextDouble() < 0.3))
                {
                    _goal = TravelGoal.Planet;
                    _target = (uint)_random.NextInt(0, _planets.Length - 1);
                }
                else
                {
                    _goal = TravelGoal.Gate;
                    _target = (uint)_random.NextInt(0, _gates.Length - 1);
                }
                return (0, 0);
        }

        float tx, ty, reach;
        if (_goal == TravelGoal.Gate)
        {
            var gate = _gates[_target];
            (tx, ty, reach) = (gate.X, gate.Y, gate.Radius * (float)GateApproach);
        }
        else
        {
            var planet = _planets[_target];
            var time = _zoneTime + Stopwatch.GetElapsedTime(_zoneTimeAt, now).TotalSeconds + 0.1;
            var angle = planet.Phase + (2 * Math.PI * time / planet.Period);
            (tx, ty, reach) = ((float)(planet.Orbit * Math.Cos(angle)), (float)(planet.Orbit * Math.Sin(angle)), planet.Radius + 60);
        }
        var dx = tx - _x;
        var dy = ty - _y;
        var distance = MathF.Sqrt((dx * dx) + (dy * dy));
        if (distance < reach)
        {
            var request = _goal == TravelGoal.Gate ? _writer.Jump(_gates[_target].Id) : _writer.Land(_planets[_target].Id);
            _goal = TravelGoal.WaitingForZone;
            _requestAt = now;
            await SendAsync(socket, request, stop).ConfigureAwait(false);
            return (0, 0);
        }
        return Steer(dx, dy, distance);
    }

    private (float Thrust, float Turn) Steer(float dx, float dy, float distance) => Steer(_rotation, _vx, _vy, dx, dy, distance);

    /// <summary>
    /// Steering toward a target at (<paramref name="dx"/>, <paramref name="dy"/>): the wanted velocity points at it
    /// with a speed that falls with the distance; the ship turns along the difference between the wanted and the actual
    /// velocity and thrusts when roughly aligned with it, so sideways drift is burned off too. (Pointing at the target
    /// and braking along the heading, as the first version did, circles a target reached with sideways speed.)
    /// </summary>
    internal static (float Thrust, float Turn) Steer(float rotation, float vx, float vy, float dx, float dy, float distance)
    {
        var wanted = Math.Min(400f, distance * 0.7f);
        var along = Math.Max(distance, 1f);
        var ex = (dx / along * wanted) - vx;
        var ey = (dy / along * wanted) - vy;
        var error = MathF.Sqrt((ex * ex) + (ey * ey));
        var heading = error < 8f ? MathF.Atan2(dy, dx) : MathF.Atan2(ey, ex);
        var diff = heading - rotation;
        while (diff > MathF.PI)
        {
            diff -= 2 * MathF.PI;
        }
        while (diff <= -MathF.PI)
        {
            diff += 2 * MathF.PI;
        }
        var turn = Math.Clamp(diff * 2.5f, -1f, 1f);
        var thrust = error >= 8f && MathF.Abs(diff) < 0.35f ? Math.Min(1f, error / 60f) : 0f;
        return (thrust, turn);
    }
}
