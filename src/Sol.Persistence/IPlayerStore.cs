using Sol.Persistence.Model;

namespace Sol.Persistence;

/// <summary>Accounts and player progress.</summary>
public interface IPlayerStore
{
    /// <summary>Creates an account; false when the username (case-insensitively) is taken.</summary>
    Task<bool> CreateAccountAsync(Account account, CancellationToken cancellationToken = default);

    Task<Account?> FindAccountByUsernameAsync(string username, CancellationToken cancellationToken = default);

    Task<Account?> GetAccountAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>The account bound to a device id, created (as a guest account) on first use. Safe under races.</summary>
    Task<Account> FindOrCreateDeviceAccountAsync(string deviceId, CancellationToken cancellationToken = default);

    /// <summary>The player of <paramref name="accountId"/> in <paramref name="galaxyId"/>, with explored systems, route and inventory.</summary>
    Task<PlayerRecord?> LoadPlayerAsync(Guid accountId, Guid galaxyId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Upserts many players in a few batched statements, in one transaction. A row whose stored version is not lower
    /// than the incoming one is left alone (with its explored systems, route and inventory).
    /// </summary>
    Task SavePlayersAsync(IReadOnlyList<PlayerRecord> players, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="player"/> as <see cref="SavePlayersAsync"/> would if it were newer than anything stored (its
    /// row, and at least one row each of explored systems, route and inventory: a placeholder where it has none), and
    /// rolls the transaction back: whether the database takes such a state now, without changing anything. Throws what the write would (a refusal: <see cref="StoreErrors.IsRefusal"/>).
    /// </summary>
    Task ProbePlayerWriteAsync(PlayerRecord player, CancellationToken cancellationToken = default);

    /// <summary>
    /// Founds a colony: takes <paramref name="cost"/> credits from the player and adds the colony in one transaction —
    /// both or neither. Bumps the player's version. The colony stands at (<paramref name="x"/>, <paramref name="y"/>) on
    /// the planet's surface.
    /// </summary>
    Task<ColonizeOutcome> ColonizeAsync(Guid playerId, int planetId, double x, double y, long cost, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Records that login session <paramref name="sessionId"/> logged out; its tokens are refused until <paramref name="until"/>.</summary>
    Task SaveLogoutAsync(Guid sessionId, DateTimeOffset until, CancellationToken cancellationToken = default);

    /// <summary>The logouts still in force at <paramref name="now"/> (the expired ones are deleted).</summary>
    Task<IReadOnlyList<SessionLogout>> ListLogoutsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that account <paramref name="accountId"/> was used from <paramref name="address"/> at <paramref name="at"/>
    /// (a later time replaces an earlier one), and forgets its addresses seen before <paramref name="forgetBefore"/> and
    /// all but its newest <paramref name="keep"/>.
    /// </summary>
    Task SaveAccountAddressAsync(Guid accountId, string address, DateTimeOffset at, int keep, DateTimeOffset forgetBefore, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every account's addresses last used before <paramref name="before"/> (an account not used again keeps its
    /// rows otherwise), in batches of 10,000 rows per transaction; answers how many.
    /// </summary>
    Task<long> ForgetAccountAddressesAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>The addresses account <paramref name="accountId"/> was used from at or after <paramref name="since"/>, newest first.</summary>
    Task<IReadOnlyList<AccountAddress>> ListAccountAddressesAsync(Guid accountId, DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Colonies in a galaxy on the given planets (all planets when <paramref name="planetIds"/> is null).</summary>
    Task<IReadOnlyList<Colony>> ListColoniesAsync(Guid galaxyId, IReadOnlyCollection<int>? planetIds = null, CancellationToken cancellationToken = default);
}
