namespace Sol.Zones.State;

/// <summary>What a ship takes with it from one zone to the next: who owns it, its class, its hull and its input.</summary>
internal readonly record struct ShipCarry(long Owner, byte ShipClass, float Hull, float Rotation, uint InputSeq);
