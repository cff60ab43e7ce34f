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

    /// <summary>Deletes a galaxy and everything in it; false when there was none.</summary>
    Task<bool> DeleteGalaxyAsync(string name, CancellationToken cancellationToken = default);
}
