using Sol.Core.Galaxy;
using Sol.Persistence.Model;

namespace Sol.Persistence;

/// <summary>Galaxies: written whole by <c>atom</c>, read whole by the server.</summary>
public interface IGalaxyStore
{
    /// <summary>Every ready galaxy, by name.</summary>
    Task<IReadOnlyList<GalaxySummary>> ListGalaxiesAsync(CancellationToken cancellationToken = default);

    /// <summary>The ready galaxy called <paramref name="name"/>, or null.</summary>
    Task<GalaxySummary?> FindGalaxyAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="galaxy"/> under its name, all or nothing: readers see the old galaxy (or none) until the
    /// new one is complete, then the new one. Throws <see cref="GalaxyExistsException"/> when the name is taken and
    /// <paramref name="replace"/> is false. Replacing a galaxy deletes it and its players' progress.
    /// </summary>
    Task<GalaxySummary> SaveGalaxyAsync(GalaxyModel galaxy, bool replace, IProgress<string>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Loads the ready galaxy called <paramref name="name"/> with all its bodies, or null.</summary>
    Task<(GalaxySummary Summary, GalaxyModel Model)?> LoadGalaxyAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the lease on serving galaxy <paramref name="galaxyId"/> for <paramref name="holder"/> until
    /// <paramref name="now"/> + <paramref name="term"/> when nobody holds it, its holder's lease ran out (its end at or
    /// before <paramref name="now"/>), or <paramref name="holder"/> holds it already (a renewal). Returns the lease as it
    /// stands afterwards: <paramref name="holder"/>'s when taken, the other server's when not.
    /// </summary>
    Task<GalaxyLease> TakeGalaxyLeaseAsync(Guid galaxyId, string holder, DateTimeOffset now, TimeSpan term, CancellationToken cancellationToken = default);

    /// <summary>Ends <paramref name="holder"/>'s lease on the galaxy (a clean stop); nothing when another server holds it.</summary>
    Task ReleaseGalaxyLeaseAsync(Guid galaxyId, string holder, CancellationToken cancellationToken = default);

    /// <summary>Deletes a galaxy and everything in it; false when there was none.</summary>
    Task<bool> DeleteGalaxyAsync(string name, CancellationToken cancellationToken = default);
}
