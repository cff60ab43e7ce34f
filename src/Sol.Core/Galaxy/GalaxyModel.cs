namespace Sol.Core.Galaxy;

/// <summary>
/// A whole galaxy in memory: systems, stars, planets and gates in flat arrays.
/// </summary>
/// <remarks>
/// Layout invariants (checked by the constructor): every array is ordered by id and ids run 1..Length, so
/// <c>Systems[id - 1]</c> is system <c>id</c>; stars, planets and gates are grouped by system in system order, so a
/// system's bodies are one contiguous slice, found through the <c>*Start</c> offset arrays (CSR layout). 100,000
/// systems take about 60 MB. The model is immutable once built and safe to share between threads.
/// </remarks>
public sealed class GalaxyModel
{
    private readonly int[] _starStart;
    private readonly int[] _planetStart;
    private readonly int[] _gateStart;

    public GalaxyModel(string name, GalaxyParameters parameters, StarSystem[] systems, Star[] stars, Planet[] planets, Gate[] gates)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(parameters);
        Name = name;
        Parameters = parameters;
        Systems = systems;
        Stars = stars;
        Planets = planets;
        Gates = gates;
        for (var i = 0; i < systems.Length; i++)
        {
            if (systems[i].Id != i + 1)
            {
                throw new ArgumentException($"system at index {i} has id {systems[i].Id}; ids must run 1..N in order", nameof(systems));
            }
        }
        _starStart = BuildOffsets(systems.Length, stars.Length, i => stars[i].Id, i => stars[i].SystemId, nameof(stars));
        _planetStart = BuildOffsets(systems.Length, planets.Length, i => planets[i].Id, i => planets[i].SystemId, nameof(planets));
        _gateStart = BuildOffsets(systems.Length, gates.Length, i => gates[i].Id, i => gates[i].SystemId, nameof(gates));
        ContentHash = GalaxyHash.Compute(this);
    }

    /// <summary>The galaxy's unique name in its store.</summary>
    public string Name { get; }

    /// <summary>What it was generated from.</summary>
    public GalaxyParameters Parameters { get; }

    /// <summary>SHA-256 (hex) of the content: systems, stars, planets and gates with every number's exact bits.</summary>
    public string ContentHash { get; }

    public StarSystem[] Systems { get; }

    public Star[] Stars { get; }

    public Planet[] Planets { get; }

    public Gate[] Gates { get; }

    public ref readonly StarSystem System(int id) => ref Systems[id - 1];

    public ref readonly Planet Planet(int id) => ref Planets[id - 1];

    public ref readonly Gate Gate(int id) => ref Gates[id - 1];

    public ref readonly Star Star(int id) => ref Stars[id - 1];

    public ReadOnlySpan<Star> StarsOf(int systemId) => Stars.AsSpan(_starStart[systemId - 1], _starStart[systemId] - _starStart[systemId - 1]);

    public ReadOnlySpan<Planet> PlanetsOf(int systemId) => Planets.AsSpan(_planetStart[systemId - 1], _planetStart[systemId] - _planetStart[systemId - 1]);

    public ReadOnlySpan<Gate> GatesOf(int systemId) => Gates.AsSpan(_gateStart[systemId - 1], _gateStart[systemId] - _gateStart[systemId - 1]);

    private static int[] BuildOffsets(int systemCount, int count, Func<int, int> id, Func<int, int> systemOf, string what)
    {
        var start = new int[systemCount + 1];
        var previousSystem = 1;
        for (var i = 0; i < count; i++)
        {
            if (id(i) != i + 1)
            {
                throw new ArgumentException($"{what}: item at index {i} has id {id(i)}; ids must run 1..N in order", what);
            }
            var system = systemOf(i);
            if (system < previousSystem || system > systemCount)
            {
                throw new ArgumentException($"{what}: item {id(i)} belongs to system {system}; items must be grouped by system in system order", what);
            }
            start[system]++;
            previousSystem = system;
        }
        for (var s = 1; s <= systemCount; s++)
        {
            start[s] += start[s - 1];
        }
        return start;
    }
}
