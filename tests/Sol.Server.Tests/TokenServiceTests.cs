using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sol.Server.Auth;

namespace Sol.Server.Tests;

public class TokenServiceTests
{
    private static readonly byte[] s_secret = Encoding.UTF8.GetBytes(TestServer.Secret);
    private readonly TokenService _tokens = new(s_secret, TimeSpan.FromHours(1));

    [Fact]
    public async Task AnIssuedTokenValidatesWithItsAccountAndSession()
    {
        var account = Guid.NewGuid();
        var session = Guid.NewGuid();
        var (token, expires) = _tokens.Issue(account, session);
        var check = await _tokens.ValidateAsync(token);
        Assert.True(check.Valid, check.Error);
        Assert.Equal((account, session, expires), (check.AccountId, check.SessionId, check.ExpiresAt));
    }

    [Fact]
    public async Task ATokenSignedWithAnotherKeyIsRefused()
    {
        var other = new TokenService(Encoding.UTF8.GetBytes("another-secret-another-secret-another-secret"), TimeSpan.FromHours(1));
        var (token, _) = other.Issue(Guid.NewGuid(), Guid.NewGuid());
        var check = await _tokens.ValidateAsync(token);
        Assert.False(check.Valid);
        Assert.Equal("bad signature", check.Error);
    }

    [Fact]
    public async Task AnUnsignedAlgNoneTokenIsRefused()
    {
        var (token, _) = _tokens.Issue(Guid.NewGuid(), Guid.NewGuid());
        var parts = token.Split('.');
        var header = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        Assert.False((await _tokens.ValidateAsync($"{header}.{parts[1]}.")).Valid);
        Assert.False((await _tokens.ValidateAsync($"{header}.{parts[1]}")).Valid);
    }

    [Fact]
    public async Task AnotherAlgorithmWithTheSameKeyIsRefused()
    {
        // Algorithm confusion: the same secret, but HS512 (or any other algorithm) is not what the server accepts.
        var secret = new byte[64];
        Random.Shared.NextBytes(secret);
        var tokens = new TokenService(secret, TimeSpan.FromHours(1));
        var handler = new JsonWebTokenHandler();
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TokenService.Issuer,
            Audience = TokenService.Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret), SecurityAlgorithms.HmacSha512),
            Claims = new Dictionary<string, object> { ["sub"] = Guid.NewGuid().ToString(), ["sid"] = Guid.NewGuid().ToString() },
        });
        var check = await tokens.ValidateAsync(token);
        Assert.False(check.Valid);
        Assert.Contains(check.Error, new[] { "algorithm not allowed", "bad signature" });
    }

    [Fact]
    public async Task AnExpiredTokenIsRefused()
    {
        var past = new ShiftedTime(TimeSpan.FromHours(-3));
        var old = new TokenService(s_secret, TimeSpan.FromHours(1), past);
        var (token, _) = old.Issue(Guid.NewGuid(), Guid.NewGuid());
        var check = await _tokens.ValidateAsync(token);
        Assert.False(check.Valid);
        Assert.Equal("token expired", check.Error);
    }

    [Fact]
    public async Task ATamperedPayloadIsRefused()
    {
        var (token, _) = _tokens.Issue(Guid.NewGuid(), Guid.NewGuid());
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace(TokenService.Audience, "elsewhere", StringComparison.Ordinal);
        Assert.False((await _tokens.ValidateAsync($"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}")).Valid);
        Assert.False((await _tokens.ValidateAsync("not a token")).Valid);
        Assert.False((await _tokens.ValidateAsync(null)).Valid);
    }

    [Fact]
    public async Task ASessionKeepsItsLoginTimeThroughRefreshesAndEndsAfterThirtyDays()
    {
        var clock = new ShiftedTime(TimeSpan.Zero);
        var tokens = new TokenService(s_secret, TimeSpan.FromHours(1), clock);
        var (first, _) = tokens.Issue(Guid.NewGuid(), Guid.NewGuid());
        var login = (await tokens.ValidateAsync(first)).AuthTime;
        Assert.InRange(DateTimeOffset.UtcNow - login, TimeSpan.Zero, TimeSpan.FromMinutes(1));

        // Refreshed every hour for 30 days, the session's login time stays the first one; then it ends.
        clock.Shift = TimeSpan.FromDays(29);
        var check = await tokens.ValidateAsync(tokens.Issue(Guid.NewGuid(), Guid.NewGuid(), login).Token);
        Assert.Equal(login, check.AuthTime);
        Assert.True(tokens.Refreshable(check));
        clock.Shift = TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1);
        check = await tokens.ValidateAsync(tokens.Issue(Guid.NewGuid(), Guid.NewGuid(), login).Token);
        Assert.True(check.Valid);
        Assert.False(tokens.Refreshable(check));
    }

    [Fact]
    public async Task ATokenNotValidYetIsRefused()
    {
        var ahead = new TokenService(s_secret, TimeSpan.FromHours(3), new ShiftedTime(TimeSpan.FromHours(1)));
        var (token, _) = ahead.Issue(Guid.NewGuid(), Guid.NewGuid()); // nbf an hour from now, exp in four
        var check = await _tokens.ValidateAsync(token);
        Assert.False(check.Valid);
        Assert.Equal("token not valid yet", check.Error);
    }

    [Fact]
    public async Task ATokenOfAnotherGalaxyWithTheSameSecretIsRefused()
    {
        var alpha = new TokenService(s_secret, TimeSpan.FromHours(1), audience: TokenService.AudienceFor(Guid.NewGuid()));
        var beta = new TokenService(s_secret, TimeSpan.FromHours(1), audience: TokenService.AudienceFor(Guid.NewGuid()));
        var (token, _) = alpha.Issue(Guid.NewGuid(), Guid.NewGuid());
        Assert.True((await alpha.ValidateAsync(token)).Valid);
        var check = await beta.ValidateAsync(token);
        Assert.False(check.Valid);
        Assert.Equal("invalid token", check.Error);
    }

    [Theory]
    [InlineData(1_000_000_000_000_000L)]
    [InlineData(-1_000_000_000_000_000L)]
    [InlineData(-1L)]
    public async Task ASignedTokenWithAnAuthTimeOutOfRangeIsRefusedNotAnError(long authTime)
    {
        // Before: FromUnixTimeSeconds threw, a 500 from /api/me and /api/auth/refresh (helper-58).
        var tokens = new TokenService(s_secret, TimeSpan.FromHours(1));
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TokenService.Issuer,
            Audience = TokenService.Audience,
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(s_secret), SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object> { ["sub"] = Guid.NewGuid().ToString(), ["sid"] = Guid.NewGuid().ToString(), ["auth_time"] = authTime },
        });
        var check = await tokens.ValidateAsync(token);
        Assert.False(check.Valid);
        Assert.Equal("token's auth_time out of range", check.Error);
    }

    [Fact]
    public void AShortSecretIsRejected() => Assert.Throws<ArgumentException>(() => new TokenService(new byte[16], TimeSpan.FromHours(1)));

    private sealed class ShiftedTime(TimeSpan shift) : TimeProvider
    {
        public TimeSpan Shift { get; set; } = shift;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
