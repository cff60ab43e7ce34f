using Google.FlatBuffers;

namespace Sol.Core.Protocol;

/// <summary>
/// Checks that a buffer is a well-formed <see cref="Sol.Protocol.ClientMessage"/> or <see cref="Sol.Protocol.ServerMessage"/>
/// before any field is read: every offset, string, vector and table lies inside the buffer, nesting and table counts are
/// bounded. Debian's flatc 2.0.8 generates no C# verifiers, so the table layouts of protocol/sol.fbs are spelled out
/// here (field i of a table is at vtable offset 4 + 2i); the tests check every message the encoders write passes, and
/// that damaged buffers fail.
/// </summary>
/// <remarks>
/// One instance per connection: it keeps its <see cref="Verifier"/> and resets it per message, so verifying allocates
/// nothing. Not thread-safe. A payload type this version does not know verifies (its bytes are never read): the caller
/// answers it with an <c>Error</c> rather than closing the connection.
/// </remarks>
public sealed class ProtocolVerifier
{
    private const int MaxDepth = 8;
    private const int MaxTables = 4096;

    private static readonly Options s_options = new(MaxDepth, MaxTables, stringEndCheck: true, alignmentCheck: true);

    private readonly Verifier _verifier = new(new ByteBuffer([]), s_options);

    /// <summary>True when <paramref name="buffer"/>, from its position to its end, is a valid ClientMessage.</summary>
    public bool VerifyClientMessage(ByteBuffer buffer) => Verify(buffer, s_clientMessage);

    /// <summary>True when <paramref name="buffer"/>, from its position to its end, is a valid ServerMessage.</summary>
    public bool VerifyServerMessage(ByteBuffer buffer) => Verify(buffer, s_serverMessage);

    private bool Verify(ByteBuffer buffer, VerifyTableAction root)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length - buffer.Position < 8)
        {
            return false;
        }
        _verifier.Buf = buffer;
        _verifier.depth = 0;
        _verifier.numTables = 0;
        try
        {
            return _verifier.VerifyBuffer(null, false, root);
        }
        catch (Exception e) when (e is OverflowException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            // The runtime's Verifier converts hostile offsets with checked casts (Convert.ToUInt32) before it bounds-checks
            // them, so some malformed buffers throw instead of returning false. Rare, and only for broken input.
            return false;
        }
    }

    // ---- ClientMessage -------------------------------------------------------------------------------------------

    private static readonly VerifyTableAction s_clientMessage = static (v, pos) =>
        v.VerifyTableStart(pos) &&
        v.VerifyField(pos, 4, 1, 1, false) &&
        Union(v, pos, ClientPayload(UnionType(v.Buf, pos))) &&
        v.VerifyTableEnd(pos);

    private static readonly VerifyTableAction s_input = static (v, pos) => Table(v, pos, static (v, p) => Scalar(v, p, 4, 4) && Scalar(v, p, 6, 4) && Scalar(v, p, 8, 4) && Scalar(v, p, 10, 1));
    private static readonly VerifyTableAction s_oneUint = static (v, pos) => Table(v, pos, static (v, p) => Scalar(v, p, 4, 4));
    private static readonly VerifyTableAction s_empty = static (v, pos) => Table(v, pos, static (_, _) => true);
    private static readonly VerifyTableAction s_ping = static (v, pos) => Table(v, pos, static (v, p) => Scalar(v, p, 4, 8));
    private static readonly VerifyTableAction s_setRoute = static (v, pos) => Table(v, pos, static (v, p) => v.VerifyVectorOfData(p, 4, 4, false) && Scalar(v, p, 6, 4));
    private static readonly VerifyTableAction s_reauth = static (v, pos) => Table(v, pos, static (v, p) => v.VerifyString(p, 4, false));

    private static VerifyTableAction? ClientPayload(byte type) => type switch
    {
        1 => s_input,
        2 or 3 => s_oneUint, // Jump, Land
        4 or 5 => s_empty, // TakeOff, Colonize
        6 => s_ping,
        7 => s_setRoute,
        8 => s_reauth,
        _ => null,
    };

    // ---- ServerMessage -------------------------------------------------------------------------------------------

    private static readonly VerifyTableAction s_serverMessage = static (v, pos) =>
        v.VerifyTableStart(pos) &&
        v.VerifyField(pos, 4, 1, 1, false) &&
        Union(v, pos, ServerPayload(UnionType(v.Buf, pos))) &&
        v.VerifyTableEnd(pos);

    private static readonly VerifyTableAction s_planetInfo = static (v, pos) => Table(v, pos, static (v, p) =>
        Scalar(v, p, 4, 4) && v.VerifyString(p, 6, false) && Scalar(v, p, 8, 4) && Scalar(v, p, 10, 4) && Scalar(v, p, 12, 8) && Scalar(v, p, 14, 8));

    private static readonly VerifyTableAction s_gateInfo = static (v, pos) => Table(v, pos, static (v, p) =>
        Scalar(v, p, 4, 4) && Scalar(v, p, 6, 4) && Scalar(v, p, 8, 4) && Scalar(v, p, 10, 4) && Scalar(v, p, 12, 4) && v.VerifyString(p, 14, false));

    private static readonly VerifyTableAction s_colonyInfo = static (v, pos) => Table(v, pos, static (v, p) =>
        Scalar(v, p, 4, 4) && v.VerifyString(p, 6, false) && Scalar(v, p, 8, 8) && Scalar(v, p, 10, 4) && Scalar(v, p, 12, 4));

    private static readonly VerifyTableAction s_inventoryItem = static (v, pos) => Table(v, pos, static (v, p) =>
        v.VerifyString(p, 4, false) && Scalar(v, p, 6, 8));

    private static readonly VerifyTableAction s_welcome = static (v, pos) => Table(v, pos, static (v, p) =>
        v.VerifyString(p, 4, false) && v.VerifyString(p, 6, false) && Scalar(v, p, 8, 8) && Scalar(v, p, 10, 2) && v.VerifyString(p, 12, false));

    private static readonly VerifyTableAction s_zoneEnter = static (v, pos) => Table(v, pos, static (v, p) =>
        Scalar(v, p, 4, 1) && Scalar(v, p, 6, 4) && Scalar(v, p, 8, 4) && v.VerifyString(p, 10, false) && Scalar(v, p, 12, 8) && Scalar(v, p, 14, 4) &&
        v.VerifyVectorOfData(p, 16, 24, false) &&
        v.VerifyVectorOfTables(p, 18, s_planetInfo, false) &&
        v.VerifyVectorOfTables(p, 20, s_gateInfo, false) &&
        v.VerifyVectorOfTables(p, 22, s_colonyInfo, false) &&
        v.VerifyTable(p, 24, s_planetInfo, false));

    private static readonly VerifyTableAction s_snapshot = static (v, pos) => Table(v, pos, static (v, p) =>
        Scalar(v, p, 4, 8) && Scalar(v, p, 6, 8) && Scalar(v, p, 8, 1) && Scalar(v, p, 10, 4) &&
        v.VerifyVectorOfData(p, 12, 32, false) && v.VerifyVectorOfData(p, 14, 16, false));

    private static readonly VerifyTableAction s_ack = static (v, pos) => Table(v, pos, static (v, p) => Scalar(v, p, 4, 8) && Scalar(v, p, 6, 4) && Scalar(v, p, 8, 4));

    private static readonly VerifyTableAction s_playerState = static (v, pos) => Table(v, pos, static (v, p) =>
        Scalar(v, p, 4, 8) && v.VerifyString(p, 6, false) && Scalar(v, p, 8, 4) && Scalar(v, p, 10, 4) && Scalar(v, p, 12, 4) &&
        v.VerifyVectorOfData(p, 14, 4, false) && v.VerifyVectorOfData(p, 16, 4, false) && v.VerifyVectorOfData(p, 18, 4, false) &&
        v.VerifyVectorOfTables(p, 20, s_inventoryItem, false));

    private static readonly VerifyTableAction s_pong = static (v, pos) => Table(v, pos, static (v, p) => Scalar(v, p, 4, 8) && Scalar(v, p, 6, 8));

    private static readonly VerifyTableAction s_error = static (v, pos) => Table(v, pos, static (v, p) => Scalar(v, p, 4, 2) && v.VerifyString(p, 6, false));

    private static VerifyTableAction? ServerPayload(byte type) => type switch
    {
        1 => s_welcome,
        2 => s_zoneEnter,
        3 => s_snapshot,
        4 => s_ack,
        5 => s_playerState,
        6 => s_pong,
        7 => s_error,
        8 => s_colonyInfo,
        _ => null,
    };

    /// <summary>
    /// The union's type byte (field 0 of a message table), or 0 when absent. Only called after
    /// <see cref="Verifier.VerifyTableStart"/> and <see cref="Verifier.VerifyField"/> accepted the table and the field,
    /// so every read here is in bounds. (The runtime's own <c>Verifier.VerifyUnion</c> reads the type from the value's
    /// slot, not the type's, in 25.2.10, so it is not used.)
    /// </summary>
    private static byte UnionType(ByteBuffer buffer, uint tablePos)
    {
        var table = (int)tablePos;
        var vtable = table - buffer.GetInt(table);
        if (buffer.GetUshort(vtable) <= 4)
        {
            return 0;
        }
        var field = buffer.GetUshort(vtable + 4);
        return field == 0 ? (byte)0 : buffer.Get(table + field);
    }

    /// <summary>The union's value (field 1): a known type's table must be present and pass <paramref name="payload"/>;
    /// types this version does not know, and NONE, are accepted unread.</summary>
    private static bool Union(Verifier v, uint pos, VerifyTableAction? payload) => payload is null || v.VerifyTable(pos, 6, payload, true);

    private static bool Table(Verifier v, uint pos, Func<Verifier, uint, bool> fields) =>
        v.VerifyTableStart(pos) && fields(v, pos) && v.VerifyTableEnd(pos);

    private static bool Scalar(Verifier v, uint pos, short field, int size) => v.VerifyField(pos, field, (ulong)size, (ulong)size, false);
}
