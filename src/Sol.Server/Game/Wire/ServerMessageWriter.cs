using Google.FlatBuffers;
using Sol.Core.Galaxy;
using Sol.Protocol;
using ZoneEnterTable = Sol.Protocol.ZoneEnter;

namespace Sol.Server.Game.Wire;

/// <summary>
/// Encodes server messages into one reusable <see cref="FlatBufferBuilder"/>. Each method returns the finished
/// message's bytes as a segment of the builder's buffer, valid until the next call on this writer: copy or send it
/// before encoding the next one. The per-tick messages (<see cref="Ack"/>, <see cref="Pong"/>) allocate nothing.
/// </summary>
/// <remarks>One writer per thread (a zone worker, a connection's receive loop); not thread-safe.</remarks>
public sealed class ServerMessageWriter(int initialSize = 1024)
{
    private readonly FlatBufferBuilder _builder = new(initialSize);

    public ArraySegment<byte> Ack(ulong tick, uint entity, uint lastSeq)
    {
        _builder.Clear();
        var ack = Sol.Protocol.Ack.CreateAck(_builder, tick, entity, lastSeq);
        return Finish(ServerPayload.Ack, ack.Value);
    }

    public ArraySegment<byte> Pong(double clientTime, double serverTime)
    {
        _builder.Clear();
        var pong = Sol.Protocol.Pong.CreatePong(_builder, clientTime, serverTime);
        return Finish(ServerPayload.Pong, pong.Value);
    }

    public ArraySegment<byte> Error(ErrorCode code, string message)
    {
        _builder.Clear();
        var text = _builder.CreateString(message);
        var error = Sol.Protocol.Error.CreateError(_builder, code, text);
        return Finish(ServerPayload.Error, error.Value);
    }

    public ArraySegment<byte> Welcome(string clientId, string playerId, double serverTime, int tickRate, string protocol)
    {
        _builder.Clear();
        var c = _builder.CreateString(clientId);
        var p = _builder.CreateString(playerId);
        var v = _builder.CreateString(protocol);
        var welcome = Sol.Protocol.Welcome.CreateWelcome(_builder, c, p, serverTime, (ushort)tickRate, v);
        return Finish(ServerPayload.Welcome, welcome.Value);
    }

    /// <summary>A colony founded now, for everyone in its planet's system and on the planet.</summary>
    public ArraySegment<byte> Colony(in ColonyView colony)
    {
        _builder.Clear();
        return Finish(ServerPayload.ColonyInfo, ColonyInfoOf(_builder, colony).Value);
    }

    private static Offset<ColonyInfo> ColonyInfoOf(FlatBufferBuilder b, in ColonyView c) =>
        ColonyInfo.CreateColonyInfo(b, (uint)c.PlanetId, b.CreateString(c.Owner), c.Founded, c.X, c.Y);

    /// <summary>The static description of a zone: its stars, planets (orbits), gates (and where they lead), colonies.</summary>
    public ArraySegment<byte> ZoneEnter(GalaxyModel galaxy, ZoneId zone, double time, uint entity, float gateRadius, IReadOnlyList<ColonyView> colonies)
    {
        ArgumentNullException.ThrowIfNull(galaxy);
        ArgumentNullException.ThrowIfNull(colonies);
        _builder.Clear();
        var b = _builder;
        var systemId = zone.Kind == Core.Galaxy.ZoneKind.System ? zone.Id : galaxy.Planet(zone.Id).SystemId;

        var colonyOffsets = new Offset<ColonyInfo>[colonies.Count];
        for (var i = 0; i < colonies.Count; i++)
        {
            colonyOffsets[i] = ColonyInfoOf(b, colonies[i]);
        }
        var colonyVector = ZoneEnterTable.CreateColoniesVector(b, colonyOffsets);

        VectorOffset stars = default, planets = default, gates = default;
        Offset<PlanetInfo> planetItself = default;
        string name;
        if (zone.Kind == Core.Galaxy.ZoneKind.System)
        {
            name = galaxy.System(zone.Id).Name;
            var planetSpan = galaxy.PlanetsOf(zone.Id);
            var planetOffsets = new Offset<PlanetInfo>[planetSpan.Length];
            for (var i = 0; i < planetSpan.Length; i++)
            {
                planetOffsets[i] = PlanetInfoOf(b, planetSpan[i]);
            }
            planets = ZoneEnterTable.CreatePlanetsVector(b, planetOffsets);

            var gateSpan = galaxy.GatesOf(zone.Id);
            var gateOffsets = new Offset<GateInfo>[gateSpan.Length];
            for (var i = 0; i < gateSpan.Length; i++)
            {
                var g = gateSpan[i];
                gateOffsets[i] = GateInfo.CreateGateInfo(b, (uint)g.Id, (float)g.X, (float)g.Y, gateRadius, (uint)g.TargetSystemId, b.CreateString(galaxy.System(g.TargetSystemId).Name));
            }
            gates = ZoneEnterTable.CreateGatesVector(b, gateOffsets);

            var starSpan = galaxy.StarsOf(zone.Id);
            ZoneEnterTable.StartStarsVector(b, starSpan.Length);
            for (var i = starSpan.Length - 1; i >= 0; i--)
            {
                var s = starSpan[i];
                StarInfo.CreateStarInfo(b, (float)s.X, (float)s.Y, (float)s.Radius, (float)s.DamageRadius, (float)s.Mass, (uint)s.Id);
            }
            stars = b.EndVector();
        }
        else
        {
            ref readonly var planet = ref galaxy.Planet(zone.Id);
            name = planet.Name;
            planetItself = PlanetInfoOf(b, planet);
        }
        var nameOffset = b.CreateString(name);
        var kind = zone.Kind == Core.Galaxy.ZoneKind.System ? Sol.Protocol.ZoneKind.System : Sol.Protocol.ZoneKind.Planet;
        var enter = ZoneEnterTable.CreateZoneEnter(b, kind, (uint)zone.Id, (uint)systemId, nameOffset, time, entity, stars, planets, gates, colonyVector, planetItself);
        return Finish(ServerPayload.ZoneEnter, enter.Value);
    }

    /// <summary>The player's own progress.</summary>
    public ArraySegment<byte> PlayerState(long credits, string shipType, float hull, float maxHull, int homeSystem, IReadOnlyList<int> explored, IReadOnlyList<int> route, IReadOnlyList<int> colonies, IReadOnlyList<(string Item, long Quantity)> inventory)
    {
        ArgumentNullException.ThrowIfNull(explored);
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(colonies);
        ArgumentNullException.ThrowIfNull(inventory);
        _builder.Clear();
        var b = _builder;
        var items = new Offset<InventoryItem>[inventory.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = InventoryItem.CreateInventoryItem(b, b.CreateString(inventory[i].Item), inventory[i].Quantity);
        }
        var itemVector = Sol.Protocol.PlayerState.CreateInventoryVector(b, items);
        var exploredVector = Sol.Protocol.PlayerState.CreateExploredVector(b, ToUints(explored));
        var routeVector = Sol.Protocol.PlayerState.CreateRouteVector(b, ToUints(route));
        var colonyVector = Sol.Protocol.PlayerState.CreateColoniesVector(b, ToUints(colonies));
        var ship = b.CreateString(shipType);
        var state = Sol.Protocol.PlayerState.CreatePlayerState(b, credits, ship, hull, maxHull, (uint)homeSystem, exploredVector, routeVector, colonyVector, itemVector);
        return Finish(ServerPayload.PlayerState, state.Value);
    }

    private static Offset<PlanetInfo> PlanetInfoOf(FlatBufferBuilder b, in Planet p) =>
        PlanetInfo.CreatePlanetInfo(b, (uint)p.Id, b.CreateString(p.Name), (float)p.Radius, (float)p.OrbitRadius, p.Period, p.Phase);

    private static uint[] ToUints(IReadOnlyList<int> values)
    {
        var result = new uint[values.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (uint)values[i];
        }
        return result;
    }

    /// <summary>Finishes the builder with a ServerMessage around <paramref name="payload"/> and returns its bytes.</summary>
    internal ArraySegment<byte> Finish(ServerPayload type, int payload)
    {
        var message = ServerMessage.CreateServerMessage(_builder, type, payload);
        _builder.Finish(message.Value);
        var buffer = _builder.DataBuffer;
        return buffer.ToArraySegment(buffer.Position, buffer.Length - buffer.Position);
    }
}
