using Sol.Core.Galaxy;

namespace Sol.Persistence.Model;

/// <summary>
/// Everything kept about one player in one galaxy: where the ship is, what it is, what the player owns and has seen.
/// </summary>
/// <remarks>
/// <see cref="Version"/> orders saves: a store keeps the row with the highest version, so a late write of an older
/// snapshot (a retried batch, say) never overwrites newer progress. Writers increment it for every change they save.
/// </remarks>
public sealed record PlayerRecord
{
    public required Guid Id { get; init; }

    public required Guid AccountId { get; init; }

    public required Guid GalaxyId { get; init; }

    public required ZoneId Zone { get; init; }

    public double X { get; init; }

    public double Y { get; init; }

    public double Vx { get; init; }

    public double Vy { get; init; }

    public double Rotation { get; init; }

    public long Credits { get; init; }

    public required string ShipType { get; init; }

    public double Hull { get; init; }

    public int HomeSystemId { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public long Version { get; init; }

    /// <summary>System ids the player has visited, ascending.</summary>
    public IReadOnlyList<int> Explored { get; init; } = [];

    /// <summary>The planned route: system ids in travel order.</summary>
    public IReadOnlyList<int> Route { get; init; } = [];

    public IReadOnlyList<InventoryItem> Inventory { get; init; } = [];
}
