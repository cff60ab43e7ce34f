using System.Runtime.InteropServices;
using Sol.Zones.State;

namespace Sol.Zones.Simulation;

/// <summary>
/// One entity in a snapshot: a fixed-size struct filled straight from the columns, in dense order. The server copies
/// these into the FlatBuffers vector of structs.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct EntityState(
    EntityHandle Handle,
    EntityKind Kind,
    EntityFlags Flags,
    byte ShipClass,
    long Owner,
    int Ref,
    uint InputSeq,
    double X,
    double Y,
    double VelocityX,
    double VelocityY,
    float Rotation,
    float AngularVelocity,
    float Hull);
