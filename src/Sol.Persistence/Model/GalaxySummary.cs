using Sol.Core.Galaxy;

namespace Sol.Persistence.Model;

/// <summary>A stored galaxy's header: what <c>atom list</c> shows, without loading the bodies.</summary>
public sealed record GalaxySummary(Guid Id, string Name, GalaxyParameters Parameters, string ContentHash, DateTimeOffset CreatedAt, int Stars, int Planets, int Gates);
