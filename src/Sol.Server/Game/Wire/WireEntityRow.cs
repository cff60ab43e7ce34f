using System.Runtime.InteropServices;

namespace Sol.Server.Game.Wire;

/// <summary>
/// The bytes of one <c>EntityState</c> struct as FlatBuffers lays it out (little-endian, 32 bytes, no padding): a
/// zone's rows are written once per tick and copied as blocks into each snapshot's entity vector. Little-endian hosts
/// only, as is every platform .NET 10 runs on.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
internal readonly record struct WireEntityRow(
    float X,
    float Y,
    float VelocityX,
    float VelocityY,
    float Rotation,
    float Hull,
    uint Id,
    byte Kind,
    byte Flags,
    byte ShipClass,
    byte Reserved)
{
    public const int Size = 32;
}
