using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Bench.Zones;

/// <summary>The object-per-entity baseline: one class instance per ship, every component a field.</summary>
internal sealed class ObjectShip
{
    public EntityHandle Handle;
    public EntityKind Kind;
    public EntityFlags Flags;
    public byte ShipClass;
    public long Owner;
    public int Ref;
    public uint InputSeq;
    public double X;
    public double Y;
    public double VelocityX;
    public double VelocityY;
    public float Rotation;
    public float AngularVelocity;
    public float Hull;
    public float ThrustInput;
    public float TurnInput;
    public ShipClass Class;
}
