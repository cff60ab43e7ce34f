namespace Sol.Persistence.Model;

/// <summary>A stack of one item kind in a player's hold.</summary>
public readonly record struct InventoryItem(string Item, long Quantity);
