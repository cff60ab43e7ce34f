namespace Sol.Persistence.Model;

/// <summary>The server (<paramref name="Holder"/>) that serves a galaxy, until <paramref name="Until"/> unless it renews.</summary>
public readonly record struct GalaxyLease(string Holder, DateTimeOffset Until);
