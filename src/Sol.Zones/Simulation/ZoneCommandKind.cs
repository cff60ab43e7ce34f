namespace Sol.Zones.Simulation;

internal enum ZoneCommandKind : byte
{
    SpawnShip = 1,
    RemoveShip = 2,
    SpawnColony = 3,
}
