using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Sol.Persistence;
using Sol.Persistence.Model;
using Sol.Server.Auth;
using Sol.Server.Game;

namespace Sol.Server.Http;

/// <summary>
/// <c>/api/auth/*</c>: register, login, guest and refresh, each answering <c>{ token, expiresAt, playerId }</c>.
/// Failed password logins are throttled per account and per address (429 with Retry-After).
/// </summary>
internal static class AuthEndpoints
{
    private static readonly PasswordHasher<Account> s_hasher = new();

    public static void Map(IEndpointRouteBuilder app, ISolStore store, TokenService tokens, PlayerDirectory players, LoginThrottle throttle)
    {
        var auth = app.MapGroup("/api/auth");

        auth.MapPost("/register", async (CredentialsRequest? body, CancellationToken ct) =>
        {
            if (ValidateCredentials(body) is { } problem)
            {
                return Error(StatusCodes.Status400BadRequest, problem);
            }
            var account = new Account(Guid.NewGuid(), body!.Username!.Trim(), null, DateTimeOffset.UtcNow);
            account = account with { PasswordHash = s_hasher.HashPassword(account, body.Password!) };
            if (!await store.CreateAccountAsync(account, ct).ConfigureAwait(false))
            {
                return Error(StatusCodes.Status409Conflict, "that username is taken");
            }
            return await IssueAsync(account.Id, tokens, players, ct).ConfigureAwait(false);
        });

        auth.MapPost("/login", async (CredentialsRequest? body, HttpContext http, CancellationToken ct) =>
        {
            if (body?.Username is null || body.Password is null)
            {
                return Error(StatusCodes.Status400BadRequest, "username and password are required");
            }
            var key = body.Username.Trim().ToLowerInvariant();
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var wait = throttle.RetryAfter(key, address);
            if (wait > TimeSpan.Zero)
            {
                http.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                return Error(StatusCodes.Status429TooManyRequests, "too many failed logins; try again later");
            }
            var account = await store.FindAccountByUsernameAsync(key, ct).ConfigureAwait(false);
            var verdict = account?.PasswordHash is { } hash ? s_hasher.VerifyHashedPassword(account, hash, body.Password) : PasswordVerificationResult.Failed;
            if (verdict == PasswordVerificationResult.Failed)
            {
                throttle.Failed(key, address);
                return Error(StatusCodes.Status401Unauthorized, "wrong username or password");
            }
            throttle.Succeeded(key);
            return await IssueAsync(account!.Id, tokens, players, ct).ConfigureAwait(false);
        });

        auth.MapPost("/guest", async (GuestRequest? body, CancellationToken ct) =>
        {
            var device = body?.DeviceId?.Trim();
            if (string.IsNullOrEmpty(device) || device.Length > 128)
            {
                return Error(StatusCodes.Status400BadRequest, "deviceId is required (1..128 characters)");
            }
            var account = await store.FindOrCreateDeviceAccountAsync(device, ct).ConfigureAwait(false);
            return await IssueAsync(account.Id, tokens, players, ct).ConfigureAwait(false);
        });

        // A fresh token for the same account (a new session id is not made: the game connection keeps its session).
        auth.MapPost("/refresh", async (HttpContext http, CancellationToken ct) =>
        {
            var check = await tokens.ValidateAsync(BearerToken(http.Request)).ConfigureAwait(false);
            if (!check.Valid)
            {
                return Error(StatusCodes.Status401Unauthorized, check.Error!);
            }
            var player = await players.EnsureAsync(check.AccountId, ct).ConfigureAwait(false);
            var (token, expires) = tokens.Issue(check.AccountId, check.SessionId);
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
        if (name is null || name.Length is < 3 or > 32 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            return "username: 3..32 characters of letters, digits, '_', '-' or '.'";
        }
        if (name.StartsWith("guest-", StringComparison.OrdinalIgnoreCase))
        {
            return "username: names starting with 'guest-' are reserved";
        }
        if (body!.Password is not { Length: >= 8 and <= 128 })
        {
            return "password: 8..128 characters";
        }
        return null;
    }

    internal static IResult Error(int status, string message) => Results.Json(new ErrorResponse(message), statusCode: status);
}
