using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Auth;
using Sol.Server.Game;

namespace Sol.Server.Http;

/// <summary>
/// <c>/api/auth/*</c>: register, login, guest and refresh, each answering <c>{ token, expiresAt, playerId }</c>; logout (204).
/// Password logins are throttled per account and address, per account and per address (429 with Retry-After; see
/// <see cref="LoginThrottle"/>), counted when they begin; registrations and guest logins per address, except from
/// loopback (load tests, a proxy on the same host). An address is an IPv4 address or an IPv6 /64.
/// </summary>
internal static class AuthEndpoints
{
    /// <summary>Registrations per client address per throttle window (5 minutes).</summary>
    public const int RegistrationsPerAddress = 20;

    private static readonly PasswordHasher<Account> s_hasher = new();

    // A login for a name with no password checks this instead, so that it takes as long as a wrong password.
    private static readonly Account s_nobody = new(Guid.Empty, "nobody", null, DateTimeOffset.UnixEpoch);
    private static readonly Lazy<string> s_nobodyHash = new(() => s_hasher.HashPassword(s_nobody, Guid.NewGuid().ToString("N")));

    /// <param name="guestLoginsPerAddress">Guest logins per client address per throttle window (5 minutes); 0: no limit.</param>
    /// <param name="failedLoginsPerAddress">Failed password logins per client address per window, over all accounts; 0: no limit.</param>
    /// <param name="failedLoginsPerAccount">Failed password logins per account per window, over all addresses but those it was used from.</param>
    /// <param name="known">The addresses each account was used from (kept in the database).</param>
    /// <param name="hashing">Where password hashes run (bounded: see <see cref="PasswordWork"/>).</param>
    public static void Map(
        IEndpointRouteBuilder app, ISolStore store, TokenService tokens, PlayerDirectory players, GameHub hub, LoginThrottle throttle, KnownAddresses known, int guestLoginsPerAddress,
        int failedLoginsPerAddress, int failedLoginsPerAccount, PasswordWork hashing)
    {
        var auth = app.MapGroup("/api/auth");
        foreach (var path in (string[])["/register", "/login", "/guest", "/logout", "/refresh"])
        {
            // Every other method gets its 405 here, with Allow: POST (a GET would otherwise be the web client's
            // catch-all's 404; and routing's own 405 would list these endpoints' methods as allowed).
            auth.MapMethods(path, [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch, HttpMethods.Options], (HttpContext http) =>
            {
                http.Response.Headers.Allow = "POST";
                return Error(StatusCodes.Status405MethodNotAllowed, "method not allowed");
            });
        }

        auth.MapPost("/register", async (CredentialsRequest? body, HttpContext http, CancellationToken ct) =>
        {
            if (ValidateCredentials(body) is { } problem)
            {
                return Error(StatusCodes.Status400BadRequest, problem);
            }
            if (Throttled(http, throttle, "r:", RegistrationsPerAddress) is { } refused)
            {
                return refused;
            }
            var account = new Account(Guid.NewGuid(), body!.Username!.Trim(), null, DateTimeOffset.UtcNow);
            var (hashed, hash) = await hashing.RunAsync(() => s_hasher.HashPassword(account, body.Password!), ct).ConfigureAwait(false);
            if (!hashed)
            {
                return Busy(http);
            }
            account = account with { PasswordHash = hash };
            if (!await store.CreateAccountAsync(account, ct).ConfigureAwait(false))
            {
                return Error(StatusCodes.Status409Conflict, "that username is taken");
            }
            // The address an account was made from is its owner's: not held by the per-account limit (helper-61).
            await known.RememberAsync(account.Id, Address(http), ct).ConfigureAwait(false);
            return await IssueAsync(account.Id, tokens, players, ct).ConfigureAwait(false);
        });

        auth.MapPost("/login", async (CredentialsRequest? body, HttpContext http, CancellationToken ct) =>
        {
            if (body?.Username is null || body.Password is null)
            {
                return Error(StatusCodes.Status400BadRequest, "username and password are required");
            }
            // A name no account can have (too long, other characters) is a wrong name: never looked up, and counted
            // against the address only (no throttle entry keyed by whatever was sent).
            var name = body.Username.Trim();
            var lower = ValidName(name) is null ? UsernameKey(name) : null;
            var group = Address(http);
            var address = "i:" + group;
            var pair = lower is null ? null : "a:" + lower + "|" + group; // this account from this address
            var keys = new List<(string, int)>(2);
            if (pair is not null)
            {
                keys.Add((pair, LoginThrottle.PerAccount));
            }
            if (failedLoginsPerAddress > 0)
            {
                keys.Add((address, failedLoginsPerAddress));
            }
            // (A key with limit 0 would count nothing: those are left out above.)
            var wait = throttle.TryBegin(CollectionsMarshal.AsSpan(keys));
            if (wait > TimeSpan.Zero)
            {
                return TooMany(http, wait, "too many failed logins; try again later");
            }
            var account = lower is null ? null : await store.FindAccountByUsernameAsync(lower, ct).ConfigureAwait(false);
            // This account from everywhere; not for an address it was used from before (its owner's, most likely). Asked
            // only within the limits above, so that the database is not read for attempts refused anyway.
            string? all = null;
            if (lower is not null && failedLoginsPerAccount > 0
                && !(account?.PasswordHash is not null && await known.KnowsAsync(account.Id, group, ct).ConfigureAwait(false)))
            {
                all = "A:" + lower;
                wait = throttle.TryBegin((all, failedLoginsPerAccount));
                if (wait > TimeSpan.Zero)
                {
                    foreach (var (key, _) in keys)
                    {
                        throttle.Release(key); // nothing counted for a refused attempt
                    }
                    return TooMany(http, wait, "too many failed logins; try again later");
                }
                keys.Add((all, failedLoginsPerAccount));
            }
            var (checkedIt, verdict) = await hashing.RunAsync(
                () => account?.PasswordHash is { } hash ? s_hasher.VerifyHashedPassword(account, hash, body.Password) : Nobody(body.Password), ct).ConfigureAwait(false);
            if (!checkedIt)
            {
                // Not a failed login: the attempt is given back.
                foreach (var (key, _) in keys)
                {
                    throttle.Release(key);
                }
                return Busy(http);
            }
            if (verdict == PasswordVerificationResult.Failed)
            {
                return Error(StatusCodes.Status401Unauthorized, "wrong username or password"); // the attempt stays counted
            }
            throttle.Forget(pair!);
            if (all is not null)
            {
                throttle.Release(all);
            }
            throttle.Release(address);
            await known.RememberAsync(account!.Id, group, ct).ConfigureAwait(false);
            return await IssueAsync(account!.Id, tokens, players, ct).ConfigureAwait(false);
        });

        auth.MapPost("/guest", async (GuestRequest? body, HttpContext http, CancellationToken ct) =>
        {
            var device = body?.DeviceId?.Trim();
            if (string.IsNullOrEmpty(device) || device.Length > 128 || !Printable(device))
            {
                return Error(StatusCodes.Status400BadRequest, "deviceId is required (1..128 printable characters)");
            }
            if (guestLoginsPerAddress > 0 && Throttled(http, throttle, "g:", guestLoginsPerAddress) is { } refused)
            {
                return refused;
            }
            var account = await store.FindOrCreateDeviceAccountAsync(device, ct).ConfigureAwait(false);
            return await IssueAsync(account.Id, tokens, players, ct).ConfigureAwait(false);
        });

        // Logging out: the token's session is logged out (its tokens refused from now on, refreshes too), and the account's
        // game session, when it was opened with that session's token, ends now (its ship saved and removed, its
        // connection closed with 4002), not after the resume grace. Another device's game session plays on.
        auth.MapPost("/logout", async (HttpContext http) =>
        {
            var check = await tokens.ValidateAsync(BearerToken(http.Request)).ConfigureAwait(false);
            if (!check.Valid)
            {
                return Error(StatusCodes.Status401Unauthorized, check.Error!);
            }
            var until = tokens.LogOut(check.SessionId);
            hub.EndSession(check.AccountId, check.SessionId);
            try
            {
                await store.SaveLogoutAsync(check.SessionId, until, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreUnavailableException or System.Data.Common.DbException or TimeoutException)
            {
                // Logged out here all the same; only a restart within the hour would forget it.
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("sol.http")
                    .LogWarning("logout of session {Session} not written to the database ({Reason}): a restart within the hour forgets it", check.SessionId, e.Message);
            }
            return Results.NoContent();
        });

        // A fresh token for the same account (a new session id is not made: the game connection keeps its session).
        auth.MapPost("/refresh", async (HttpContext http, CancellationToken ct) =>
        {
            var check = await tokens.ValidateAsync(BearerToken(http.Request)).ConfigureAwait(false);
            if (!check.Valid)
            {
                return Error(StatusCodes.Status401Unauthorized, check.Error!);
            }
            if (!tokens.Refreshable(check))
            {
                // A token kept alive by refreshes does not live for ever: a stolen one dies with its session.
                return Error(StatusCodes.Status401Unauthorized, "session too old; log in again");
            }
            var player = await players.EnsureAsync(check.AccountId, ct).ConfigureAwait(false);
            if (await store.GetAccountAsync(check.AccountId, ct).ConfigureAwait(false) is { PasswordHash: not null } account)
            {
                await known.RememberAsync(account.Id, Address(http), ct).ConfigureAwait(false); // a refresh is the owner's too (helper-61)
            }
            var (token, expires) = tokens.Issue(check.AccountId, check.SessionId, check.AuthTime);
            return Results.Json(new TokenResponse(token, expires, player.Id));
        });
    }

    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    private static async Task<IResult> IssueAsync(Guid accountId, TokenService tokens, PlayerDirectory players, CancellationToken ct)
    {
        var player = await players.EnsureAsync(accountId, ct).ConfigureAwait(false);
        var (token, expires) = tokens.Issue(accountId, Guid.NewGuid());
        return Results.Json(new TokenResponse(token, expires, player.Id));
    }

    private static string? ValidateCredentials(CredentialsRequest? body)
    {
        var name = body?.Username?.Trim();
        if (ValidName(name) is { } problem)
        {
            return problem;
        }
        if (name!.StartsWith("guest-", StringComparison.OrdinalIgnoreCase))
        {
            return "username: names starting with 'guest-' are reserved";
        }
        if (body!.Password is not { Length: <= 512 } password || !Printable(password) || PasswordLength(password) is < 8 or > 128 || Visible(password) < 8)
        {
            return "password: 8..128 printable characters, at least 8 of them neither spaces nor invisible";
        }
        return null;
    }

    /// <summary>Characters (code points, so an emoji is one), not UTF-16 units (it was two).</summary>
    private static int PasswordLength(string password)
    {
        var count = 0;
        foreach (var _ in password.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

    /// <summary>
    /// Characters that show: not white space (U+2028 included), not invisible formatting (U+200B, U+00AD, U+FEFF:
    /// category Cf), not a mark that only modifies the character before it (U+0301, the variation selectors: Mn, Me),
    /// and not one of the blank letters and symbols (Hangul fillers, the braille blank).
    /// </summary>
    private static int Visible(string password)
    {
        var count = 0;
        foreach (var rune in password.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (!Rune.IsWhiteSpace(rune) && category is not (UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark)
                && rune.Value is not (0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Why <paramref name="name"/> cannot be a username, or null.</summary>
    private static string? ValidName(string? name) =>
        name is null || name.Length is < 3 or > 32 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            ? "username: 3..32 characters of letters, digits, '_', '-' or '.'"
            : null;

    /// <summary>No control characters (a NUL, which PostgreSQL refuses in text) and no half of a surrogate pair.</summary>
    private static bool Printable(string text)
    {
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done || Rune.IsControl(rune))
            {
                return false;
            }
            i += used;
        }
        return true;
    }

    /// <summary>As long as checking a wrong password, and as failed: a login for a name with no password.</summary>
    private static PasswordVerificationResult Nobody(string password)
    {
        _ = s_hasher.VerifyHashedPassword(s_nobody, s_nobodyHash.Value, password);
        return PasswordVerificationResult.Failed;
    }

    private static string Address(HttpContext http) => AddressGroup(http.Connection.RemoteIpAddress);

    /// <summary>An account's name as the login limits key it (the login endpoint's <c>lower</c>).</summary>
    private static string UsernameKey(string username) => username.Trim().ToLowerInvariant();

    /// <summary>
    /// What the per-address limits count by: an IPv4 address (also when written as IPv4-mapped IPv6), or an IPv6
    /// address's /64 (one subscriber's network: it has all of it, so each of its addresses would otherwise be a fresh
    /// allowance).
    /// </summary>
    internal static string AddressGroup(IPAddress? ip)
    {
        if (ip is null)
        {
            return "unknown";
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            return ip.MapToIPv4().ToString();
        }
        if (ip.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return ip.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    /// <summary>One more request of a kind (<paramref name="kind"/>) from the client's address, or the 429 that refuses it; loopback is not limited.</summary>
    internal static IResult? Throttled(HttpContext http, LoginThrottle throttle, string kind, int limit, string message = "too many requests from this address; try again later")
    {
        if (http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip))
        {
            return null;
        }
        var wait = throttle.TryBegin((kind + Address(http), limit));
        return wait > TimeSpan.Zero ? TooMany(http, wait, message) : null;
    }

    private static IResult Busy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return Error(StatusCodes.Status503ServiceUnavailable, "the server is busy with logins; try again in a moment");
    }

    private static IResult TooMany(HttpContext http, TimeSpan wait, string message)
    {
        http.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        return Error(StatusCodes.Status429TooManyRequests, message);
    }

    internal static IResult Error(int status, string message) => Results.Json(new ErrorResponse(message), statusCode: status);
}
