using System.Text.Json;

namespace Sol.Server.Assets;

/// <summary>The game's tunable rules and ship types, read from the assets (<c>rules.json</c>, <c>ships.json</c>).</summary>
public sealed record GameRules
{
    public long StartingCredits { get; init; } = 1000;

    public string StarterShip { get; init; } = "scout";

    public long ColonizeCost { get; init; } = 500;

    /// <summary>
    /// The most colonies a planet holds (one per player). Each is a fixed body of the planet's zone (which snapshots
    /// leave out) and a line in every ZoneEnter of the planet and of its system, so this bounds the ZoneEnter (at 256,
    /// about 18 KB per planet).
    /// </summary>
    public int ColoniesPerPlanet { get; init; } = 32;

    /// <summary>The largest <see cref="ColoniesPerPlanet"/> rules.json may set.</summary>
    public const int MaxColoniesPerPlanet = 256;

    public long DestroyedPenalty { get; init; } = 100;

    public string NpcShip { get; init; } = "patrol";

    /// <summary>Ship types in file order; a ship's class index on the wire is its index here.</summary>
    public IReadOnlyList<ShipType> Ships { get; init; } = [];

    public int ShipIndex(string id)
    {
        for (var i = 0; i < Ships.Count; i++)
        {
            if (Ships[i].Id == id)
            {
                return i;
            }
        }
        return -1;
    }

    private static readonly JsonSerializerOptions s_json = new() { PropertyNameCaseInsensitive = true };

    public static GameRules Load(AssetCatalog assets)
    {
        ArgumentNullException.ThrowIfNull(assets);
        var rules = JsonSerializer.Deserialize<GameRules>(assets.Read("rules.json"), s_json)
            ?? throw new InvalidDataException("rules.json is empty");
        var ships = JsonSerializer.Deserialize<ShipsFile>(assets.Read("ships.json"), s_json)?.Ships
            ?? throw new InvalidDataException("ships.json has no ships");
        rules = rules with { Ships = ships };
        if (rules.ShipIndex(rules.StarterShip) < 0 || rules.ShipIndex(rules.NpcShip) < 0)
        {
            throw new InvalidDataException($"rules.json names ship types ({rules.StarterShip}, {rules.NpcShip}) that ships.json does not define");
        }
        if (rules.ColoniesPerPlanet is < 1 or > MaxColoniesPerPlanet)
        {
            throw new InvalidDataException($"rules.json: coloniesPerPlanet must be 1 to {MaxColoniesPerPlanet}, not {rules.ColoniesPerPlanet}");
        }
        if (ships.Count > 255)
        {
            throw new InvalidDataException("ships.json: at most 255 ship types (the wire carries a byte)");
        }
        return rules;
    }

    private sealed record ShipsFile(IReadOnlyList<ShipType> Ships);
}
