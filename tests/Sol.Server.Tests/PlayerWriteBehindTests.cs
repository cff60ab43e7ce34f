using Microsoft.Extensions.Logging;
using Sol.Core.Galaxy;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Progress;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class PlayerWriteBehindTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private ISolStore _store = null!;
    private Guid _galaxyId;

    public async Task InitializeAsync()
    {
        _store = await SolStore.OpenAsync(_directory.File("sol.db"));
        _galaxyId = (await _store.SaveGalaxyAsync(GalaxyGenerator.Generate("main", GalaxyParameters.Default(10, 1)), replace: false)).Id;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task StagedStatesAreCoalescedAndWrittenOnFlush()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMinutes(10), new ListLogger());
        var player = Player(1);
        for (var v = 1; v <= 50; v++)
        {
            writer.Stage(player with { Version = v, X = v });
        }
        writer.Stage(player with { Version = 7, X = -1 }); // an older state staged late never wins
        Assert.Equal(1, writer.Pending);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, writer.Written);
        var stored = await _store.LoadPlayerAsync(player.AccountId, _galaxyId);
        Assert.Equal((50L, 50.0), (stored!.Version, stored.X));
    }

    [Fact]
    public async Task TheIntervalFlushesWithoutBeingAsked()
    {
        await using var writer = new PlayerWriteBehind(_store, TimeSpan.FromMilliseconds(50), new ListLogger());
        var player = Player(2);
        writer.Stage(player);
        await Eventually.TrueAsync(() => writer.Written == 1, TimeSpan.FromSeconds(10), "the interval flush");
        Assert.NotNull(await _store.LoadPlayerAsync(player.AccountId, _galaxyId));
    }

    [Fact]
    public async Task ADatabaseOutageLosesNothingWarnsOnceAndStaysBounded()
    {
        var flaky = new FlakyStore(_store) { Down = true };
        var log = new ListLogger();
        await using var writer = new PlayerWriteBehind(flaky, TimeSpan.FromMilliseconds(40), log);
        var players = Enumerable.Range(0, 20).Select(Player).ToList();
        var waiting = writer.FlushAsync();
        for (var round = 1; round <= 30; round++)
        {
            foreach (var p in players)
            {
                writer.Stage(p with { Version = round, X = round });
            }
            if (round == 5)
            {
                await Eventually.TrueAsync(() => writer.Failures >= 3, TimeSpan.FromSeconds(10), "several failed flushes");
            }
        }
        Assert.True(writer.InOutage);
        Assert.Equal(20, writer.Pending); // latest per player, whatever the number of rounds
        Assert.False(waiting.IsCompleted);
        Assert.Single(log.Warnings, w => w.Contains("Cannot write player progress", StringComparison.Ordinal));

        flaky.Down = false;
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(writer.InOutage);
        Assert.Contains(log.Warnings, w => w.Contains("Database back", StringComparison.Ordinal));
        foreach (var p in players)
        {
            var stored = await _store.LoadPlayerAsync(p.AccountId, _galaxyId);
            Assert.Equal((30L, 30.0), (stored!.Version, stored.X));
        }
    }

    private PlayerRecord Player(int n) => new()
    {
        Id = Guid.NewGuid(),
        AccountId = Guid.NewGuid(),
        GalaxyId = _galaxyId,
        Zone = ZoneId.ForSystem(1 + (n % 10)),
        ShipType = "scout",
        Hull = 100,
        HomeSystemId = 1,
        Credits = 1000,
        Version = 1,
        UpdatedAt = DateTimeOffset.UtcNow,
    };

    private sealed class FlakyStore(IPlayerStore inner) : IPlayerStore
    {
        public volatile bool Down;

        public Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default) =>
            Down ? throw new StoreUnavailableException("cannot reach the database at 127.0.0.1:5432/sol: Connection refused") : inner.SavePlayersAsync(players, cancellationToken);

        public Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default) => inner.CreateAccountAsync(account, cancellationToken);

        public Task<Account?> FindAccountByUsernameAsync(string username, CancellationToken cancellationToken = default) => inner.FindAccountByUsernameAsync(username, cancellationToken);

        public Task<Account?> GetAccountAsync(Guid id, CancellationToken cancellationToken = default) => inner.GetAccountAsync(id, cancellationToken);

        public Task<Account> FindOrCreateDeviceAccountAsync(string deviceId, CancellationToken cancellationToken = default) => inner.FindOrCreateDeviceAccountAsync(deviceId, cancellationToken);

        public Task<PlayerRecord?> LoadPlayerAsync(Guid accountId, Guid galaxyId, CancellationToken cancellationToken = default) => inner.LoadPlayerAsync(accountId, galaxyId, cancellationToken);

        public Task<ColonizeOutcome> ColonizeAsync(Guid playerId, int planetId, long cost, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.ColonizeAsync(playerId, planetId, cost, now, cancellationToken);

        public Task<IReadOnlyList<Colony>> ListColoniesAsync(Guid galaxyId, IReadOnlyCollection<int>? planetIds = null, CancellationToken cancellationToken = default) => inner.ListColoniesAsync(galaxyId, planetIds, cancellationToken);
    }
}

/// <summary>A logger that keeps warnings for assertions.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<string> _warnings = [];

    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
            {
                return [.. _warnings];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Warning)
        {
            lock (_warnings)
            {
                _warnings.Add(formatter(state, exception));
            }
        }
    }
}
