namespace Sol.Core.Galaxy;

/// <summary>A solar system: one zone of the galaxy. <see cref="X"/>/<see cref="Y"/> place it on the galaxy map (light years).</summary>
public readonly record struct StarSystem(int Id, string Name, double X, double Y);
