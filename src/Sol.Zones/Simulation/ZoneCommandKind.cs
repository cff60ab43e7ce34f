namespace Sol.Zones.Simulation;

internal enum ZoneCommandKind : byte
{
    SpawnShip = 1,
    RemoveShip = 2,
    SpawnColony = 3,
    PlaceColony = 4, // a colony that exists already (loaded at start-up): no Colonized event
}
