using System.Runtime.InteropServices;

namespace Sol.Zones.Input;

/// <summary>
/// One input of one player's ship, as the marshaler decodes it: a fixed-size struct copied through the zone inbox.
/// </summary>
/// <param name="Owner">The player id that owns the ship.</param>
/// <param name="Seq">The client's input sequence number; snapshots report the last one applied.</param>
/// <param name="Thrust">Forward thrust in [-1, 1] (clamped).</param>
/// <param name="Turn">Turn in [-1, 1] (clamped), positive is counter-clockwise.</param>
/// <param name="Fire">Fire button held.</param>
/// <param name="Action">A jump, landing or take-off request, or none.</param>
/// <param name="Target">The gate id (jump) or planet id (land) of the request.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct InputCommand(long Owner, uint Seq, float Thrust, float Turn, bool Fire, ShipAction Action, int Target)
{
    /// <summary>A plain steering input.</summary>
    public static InputCommand Steer(long owner, uint seq, float thrust, float turn) => new(owner, seq, thrust, turn, false, ShipAction.None, 0);

    /// <summary>A request to jump through gate <paramref name="gateId"/>; thrust and turn are zero.</summary>
    public static InputCommand Jump(long owner, uint seq, int gateId) => new(owner, seq, 0, 0, false, ShipAction.Jump, gateId);

    /// <summary>A request to land on planet <paramref name="planetId"/>; thrust and turn are zero.</summary>
    public static InputCommand Land(long owner, uint seq, int planetId) => new(owner, seq, 0, 0, false, ShipAction.Land, planetId);

    /// <summary>A request to take off from the current planet surface.</summary>
    public static InputCommand TakeOff(long owner, uint seq) => new(owner, seq, 0, 0, false, ShipAction.TakeOff, 0);
}
