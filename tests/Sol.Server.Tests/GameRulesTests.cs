using Sol.Server.Assets;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class GameRulesTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public void TheShippedRulesLoadWithTheirColonyLimit()
    {
        Assert.Equal(32, Load(null).ColoniesPerPlanet);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(GameRules.MaxColoniesPerPlanet + 1)]
    public void AColonyLimitOutOfRangeIsRefusedWithItsName(int limit)
    {
        var e = Assert.Throws<InvalidDataException>(() => Load(limit));
        Assert.Contains("coloniesPerPlanet", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheLargestColonyLimitIsAllowed()
    {
        Assert.Equal(GameRules.MaxColoniesPerPlanet, Load(GameRules.MaxColoniesPerPlanet).ColoniesPerPlanet);
    }

    /// <summary>The shipped assets, with rules.json's <c>coloniesPerPlanet</c> set to <paramref name="limit"/> (unless null).</summary>
    private GameRules Load(int? limit)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "assets");
        foreach (var file in Directory.EnumerateFiles(shipped))
        {
            File.Copy(file, _directory.File(Path.GetFileName(file)), overwrite: true);
        }
        if (limit is { } n)
        {
            var rules = File.ReadAllText(_directory.File("rules.json"));
            File.WriteAllText(_directory.File("rules.json"), rules.Replace("\"coloniesPerPlanet\": 32", $"\"coloniesPerPlanet\": {n}", StringComparison.Ordinal));
        }
        return GameRules.Load(AssetCatalog.Load(_directory.Path));
    }

    public void Dispose() => _directory.Dispose();
}
