using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sol.Server.Auth;

/// <summary>
/// Issues and checks the game's JWTs: HS256 only, <c>sub</c> = account id, <c>sid</c> = session id, <c>exp</c>, <c>nbf</c>.
/// Validation pins the algorithm (so <c>alg: none</c> and RS/HS confusion are refused), checks the signature, issuer,
/// audience and lifetime (30 s clock skew). The server's audience names its galaxy (<see cref="AudienceFor"/>), so a token
/// of another server or galaxy that shares the secret (or of this one's database before it was made anew) is refused.
/// </summary>
public sealed class TokenService
{
    public const string Issuer = "sol";
    public const string Audience = "sol-game";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false, MapInboundClaims = false };
    private readonly SymmetricSecurityKey _key;
    private readonly SigningCredentials _credentials;
    private readonly TokenValidationParameters _validation;
    private readonly TimeProvider _time;
    // Sessions logged out -> until when their tokens are refused (the longest any of them can still be valid). Kept in the
    // database too (session_logouts), and restored at start-up: a restart does not revive them.
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _loggedOut = new();
    private long _nextSweep;

    /// <summary>The shortest signing secret accepted: 256 bits, HS256's key size.</summary>
    public const int MinSecretBytes = 32;

    /// <param name="audience">The <c>aud</c> issued and required (a server: <see cref="AudienceFor"/> its galaxy).</param>
    public TokenService(byte[] secret, TimeSpan lifetime, TimeProvider? time = null, string audience = Audience)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < MinSecretBytes)
        {
            throw new ArgumentException($"the JWT secret must be at least {MinSecretBytes} bytes (256 bits) for HS256", nameof(secret));
        }
        ArgumentException.ThrowIfNullOrEmpty(audience);
        _time = time ?? TimeProvider.System;
        Lifetime = lifetime;
        TokenAudience = audience;
        _key = new SymmetricSecurityKey(secret) { KeyId = Convert.ToHexStringLower(SHA256.HashData(secret))[..16] };
        _credentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            // The handler's own check reads the system clock; this one reads the service's (tests move it). Not before
            // and expiry both, with the same 30 s of skew.
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is { } e && e > now - TimeSpan.FromSeconds(30) && (notBefore is not { } nb || nb <= now + TimeSpan.FromSeconds(30));
            },
        };
    }

    public TimeSpan Lifetime { get; }

    /// <summary>The <c>aud</c> this service issues and requires.</summary>
    public string TokenAudience { get; }

    /// <summary>The audience of a server whose galaxy is <paramref name="galaxyId"/>.</summary>
    public static string AudienceFor(Guid galaxyId) => $"{Audience}:{galaxyId:D}";

    /// <summary>How long a session lasts through refreshes: after this from its login, a refresh is refused.</summary>
    public static readonly TimeSpan MaxSessionAge = TimeSpan.FromDays(30);

    /// <summary>Whether a valid token's session may get a fresh token (its login is within <see cref="MaxSessionAge"/>).</summary>
    public bool Refreshable(TokenCheck check) => check.Valid && _time.GetUtcNow() - check.AuthTime <= MaxSessionAge;

    /// <summary>
    /// A token for <paramref name="accountId"/> in session <paramref name="sessionId"/>, whose login was at
    /// <paramref name="authTime"/> (a refresh keeps its token's; default: now, a new login).
    /// </summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(Guid accountId, Guid sessionId, DateTimeOffset? authTime = null)
    {
        var now = _time.GetUtcNow();
        var expires = now + Lifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = TokenAudience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = accountId.ToString("D"),
                [JwtRegisteredClaimNames.Sid] = sessionId.ToString("D"),
                [JwtRegisteredClaimNames.AuthTime] = (authTime ?? now).ToUnixTimeSeconds(),
            },
        });
        return (token, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

    /// <summary>
    /// Refuses every token of session <paramref name="sessionId"/> from now on (a logout): for refreshes, the game port,
    /// <c>/api/me</c> and another logout. Before, a token went on working after its logout, and its refresh made new ones.
    /// </summary>
    /// <returns>Until when its tokens are refused: the caller keeps that in the database (see <see cref="Restore"/>).</returns>
    public DateTimeOffset LogOut(Guid sessionId)
    {
        var now = _time.GetUtcNow();
        var until = now + Lifetime + TimeSpan.FromMinutes(1); // past the longest-lived token of it, skew included
        _loggedOut[sessionId] = until;
        var due = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks >= due && Interlocked.CompareExchange(ref _nextSweep, now.UtcTicks + TimeSpan.TicksPerMinute, due) == due)
        {
            foreach (var (session, refusedUntil) in _loggedOut)
            {
                if (refusedUntil <= now)
                {
                    _loggedOut.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(session, refusedUntil));
                }
            }
        }
        return until;
    }

    /// <summary>The logouts kept in the database, at start-up.</summary>
    public void Restore(IEnumerable<Persistence.Model.SessionLogout> logouts)
    {
        ArgumentNullException.ThrowIfNull(logouts);
        foreach (var logout in logouts)
        {
            _loggedOut[logout.SessionId] = logout.Until;
        }
    }

    /// <summary>Whether session <paramref name="sessionId"/> was logged out (its tokens are refused).</summary>
    public bool IsLoggedOut(Guid sessionId) => _loggedOut.TryGetValue(sessionId, out var until) && _time.GetUtcNow() < until;

    /// <summary>Checks <paramref name="token"/>; on success the account, session and expiry, else why not.</summary>
    public async Task<TokenCheck> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return TokenCheck.Fail("no token");
        }
        if (token.Length > 4096)
        {
            return TokenCheck.Fail("token too long");
        }
        var result = await _handler.ValidateTokenAsync(token, _validation).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return TokenCheck.Fail(result.Exception switch
            {
                SecurityTokenExpiredException => "token expired",
                SecurityTokenInvalidLifetimeException => NotYetValid(token) ? "token not valid yet" : "token expired",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "bad signature",
                SecurityTokenInvalidAlgorithmException => "algorithm not allowed",
                _ => "invalid token",
            });
        }
        if (!result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var sub) || !Guid.TryParse(sub as string, out var account) ||
            !result.Claims.TryGetValue(JwtRegisteredClaimNames.Sid, out var sid) || !Guid.TryParse(sid as string, out var session))
        {
            return TokenCheck.Fail("token lacks sub or sid");
        }
        if (IsLoggedOut(session))
        {
            return TokenCheck.Fail("the session was logged out; log in again");
        }
        if (!result.Claims.TryGetValue(JwtRegisteredClaimNames.AuthTime, out var auth) || auth is not (long or int))
        {
            return TokenCheck.Fail("token lacks auth_time");
        }
        var authTime = Convert.ToInt64(auth, System.Globalization.CultureInfo.InvariantCulture);
        if (authTime < 0 || authTime > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            // A signed token this server never issues (FromUnixTimeSeconds would throw: a 500 before, helper-58).
            return TokenCheck.Fail("token's auth_time out of range");
        }
        return new TokenCheck(
            true, account, session, DateTimeOffset.FromUnixTimeSeconds(new DateTimeOffset(result.SecurityToken.ValidTo, TimeSpan.Zero).ToUnixTimeSeconds()), null,
            DateTimeOffset.FromUnixTimeSeconds(authTime));
    }

    /// <summary>
    /// The signing secret: from the file, else the variable's text, else a random one kept in <paramref name="dataDirectory"/>
    /// (created on first start; <paramref name="generated"/> tells the caller to warn that tokens die with the folder).
    /// </summary>
    /// <exception cref="InvalidDataException">The secret is unreadable or too short (a one-line message).</exception>
    public static byte[] LoadSecret(string? file, string? text, string dataDirectory, out bool generated)
    {
        generated = false;
        if (GivenSecret(file, text) is { } given)
        {
            return given;
        }
        var path = Path.Combine(dataDirectory, "jwt-secret");
        if (File.Exists(path))
        {
            byte[] kept;
            try
            {
                kept = Convert.FromBase64String(File.ReadAllText(path).Trim());
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidDataException($"cannot read the JWT secret {path} ({e.Message.ReplaceLineEndings(" ")}); delete it to make a new one (tokens issued with the old one stop working)", e);
            }
            return Checked(kept, path);
        }
        var secret = RandomNumberGenerator.GetBytes(64);
        try
        {
            Directory.CreateDirectory(dataDirectory);
            File.WriteAllText(path, Convert.ToBase64String(secret));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot keep a new JWT secret in {dataDirectory}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        generated = true;
        return secret;
    }

    /// <summary>Whether a token that failed its lifetime check did so for its <c>nbf</c> (read unverified: only for the message).</summary>
    private bool NotYetValid(string token)
    {
        try
        {
            return new JsonWebToken(token).ValidFrom > _time.GetUtcNow().UtcDateTime;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// The secret the operator gave: the text of <paramref name="file"/> (<c>--jwt-secret-file</c>, trimmed), else
    /// <paramref name="text"/> (<c>SOL_JWT_SECRET</c>), as UTF-8; null when neither is given. The CLI checks it with this
    /// (exit 2), the server loads it with this.
    /// </summary>
    /// <exception cref="InvalidDataException">The file cannot be read, or the secret is too short (a one-line message).</exception>
    public static byte[]? GivenSecret(string? file, string? text) =>
        file is not null ? Checked(ReadSecretFile(file), "--jwt-secret-file")
        : text is not null ? Checked(Encoding.UTF8.GetBytes(text), "SOL_JWT_SECRET")
        : null;

    /// <summary>The secret a <c>--jwt-secret-file</c> holds (its text, trimmed, as UTF-8).</summary>
    /// <exception cref="InvalidDataException">The file cannot be read (a one-line message).</exception>
    private static byte[] ReadSecretFile(string file)
    {
        try
        {
            return Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"--jwt-secret-file: cannot read '{file}': {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    private static byte[] Checked(byte[] secret, string source) =>
        secret.Length < MinSecretBytes
            ? throw new InvalidDataException($"{source}: the JWT secret must be at least {MinSecretBytes} bytes (256 bits) for HS256, not {secret.Length}")
            : secret;
}
