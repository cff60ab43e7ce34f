using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sol.Server.Auth;

/// <summary>
/// Issues and checks the game's JWTs: HS256 only, <c>sub</c> = account id, <c>sid</c> = session id, <c>exp</c>.
/// Validation pins the algorithm (so <c>alg: none</c> and RS/HS confusion are refused), checks the signature, issuer,
/// audience and lifetime (30 s clock skew).
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

    public TokenService(byte[] secret, TimeSpan lifetime, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.Length < 32)
        {
            throw new ArgumentException("the JWT secret must be at least 32 bytes (256 bits) for HS256", nameof(secret));
        }
        _time = time ?? TimeProvider.System;
        Lifetime = lifetime;
        _key = new SymmetricSecurityKey(secret) { KeyId = Convert.ToHexStringLower(SHA256.HashData(secret))[..16] };
        _credentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            LifetimeValidator = (notBefore, expires, _, _) => expires is { } e && e > _time.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(30),
        };
    }

    public TimeSpan Lifetime { get; }

    /// <summary>A token for <paramref name="accountId"/> in session <paramref name="sessionId"/>.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(Guid accountId, Guid sessionId)
    {
        var now = _time.GetUtcNow();
        var expires = now + Lifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = accountId.ToString("D"),
                [JwtRegisteredClaimNames.Sid] = sessionId.ToString("D"),
            },
        });
        return (token, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

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
                SecurityTokenInvalidLifetimeException => "token expired",
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
        return new TokenCheck(true, account, session, DateTimeOffset.FromUnixTimeSeconds(new DateTimeOffset(result.SecurityToken.ValidTo, TimeSpan.Zero).ToUnixTimeSeconds()), null);
    }

    /// <summary>
    /// The signing secret: from the file, else the variable's text, else a random one kept in <paramref name="dataDirectory"/>
    /// (created on first start; <paramref name="generated"/> tells the caller to warn that tokens die with the folder).
    /// </summary>
    public static byte[] LoadSecret(string? file, string? text, string dataDirectory, out bool generated)
    {
        generated = false;
        if (file is not null)
        {
            return Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim());
        }
        if (text is not null)
        {
            return Encoding.UTF8.GetBytes(text);
        }
        var path = Path.Combine(dataDirectory, "jwt-secret");
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        Directory.CreateDirectory(dataDirectory);
        var secret = RandomNumberGenerator.GetBytes(64);
        File.WriteAllText(path, Convert.ToBase64String(secret));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        generated = true;
        return secret;
    }
}
