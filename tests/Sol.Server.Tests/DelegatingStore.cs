using Sol.Persistence;
using Sol.Persistence.Model;

namespace Sol.Server.Tests;

/// <summary>Passes everything to <paramref name="inner"/>; test stores override the calls they are about.</summary>
internal abstract class DelegatingStore(IPlayerStore inner) : IPlayerStore
{
    public virtual Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default) => inner.SavePlayersAsync(players, cancellationToken);

    public virtual Task ProbePlayerWriteAsync(PlayerRecord player, CancellationToken cancellationToken = default) => inner.ProbePlayerWriteAsync(player, cancellationToken);

    public virtual Task<ColonizeOutcome> ColonizeAsync(Guid playerId, int planetId, double x, double y, long cost, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.ColonizeAsync(playerId, planetId, x, y, cost, now, cancellationToken);

    public Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default) => inner.CreateAccountAsync(account, cancellationToken);

    public Task<Account?> FindAccountByUsernameAsync(string username, CancellationToken cancellationToken = default) => inner.FindAccountByUsernameAsync(username, cancellationToken);

    public Task<Account?> GetAccountAsync(Guid id, CancellationToken cancellationToken = default) => inner.GetAccountAsync(id, cancellationToken);

    public Task<Account> FindOrCreateDeviceAccountAsync(string deviceId, CancellationToken cancellationToken = default) => inner.FindOrCreateDeviceAccountAsync(deviceId, cancellationToken);

    public virtual Task<PlayerRecord?> LoadPlayerAsync(Guid accountId, Guid galaxyId, CancellationToken cancellationToken = default) => inner.LoadPlayerAsync(accountId, galaxyId, cancellationToken);

    public Task SaveLogoutAsync(Guid sessionId, DateTimeOffset until, CancellationToken cancellationToken = default) => inner.SaveLogoutAsync(sessionId, until, cancellationToken);

    public virtual Task SaveAccountAddressAsync(Guid accountId, string address, DateTimeOffset at, int keep, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default) =>
        inner.SaveAccountAddressAsync(accountId, address, at, keep, forgetBefore, cancellationToken);

    public Task<long> ForgetAccountAddressesAsync(DateTimeOffset before, CancellationToken cancellationToken = default) => inner.ForgetAccountAddressesAsync(before, cancellationToken);

    public virtual Task<IReadOnlyList<AccountAddress>> ListAccountAddressesAsync(Guid accountId, DateTimeOffset since, CancellationToken cancellationToken = default) =>
        inner.ListAccountAddressesAsync(accountId, since, cancellationToken);

    public Task<IReadOnlyList<SessionLogout>> ListLogoutsAsync(DateTimeOffset now, CancellationToken cancellationToken = default) => inner.ListLogoutsAsync(now, cancellationToken);

    public Task<IReadOnlyList<Colony>> ListColoniesAsync(Guid galaxyId, IReadOnlyCollection<int>? planetIds = null, CancellationToken cancellationToken = default) => inner.ListColoniesAsync(galaxyId, planetIds, cancellationToken);
}
