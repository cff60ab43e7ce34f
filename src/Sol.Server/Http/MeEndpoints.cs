using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sol.Server.Auth;
using Sol.Server.Game;

namespace Sol.Server.Http;

/// <summary>
/// <c>GET /api/me</c> (bearer token): the caller's live player as the game last staged it — zone, ship position,
/// credits, client id and session phase. Read-only; position and zone are as fresh as <c>--snapshot-interval</c>.
/// 404 when the account has no session in the game.
/// </summary>
internal static class MeEndpoints
{
    public static void Map(IEndpointRouteBuilder app, TokenService tokens, GameHub hub)
    {
        app.MapMethods("/api/me", ReadMethods.GetOrHead, async (HttpContext http) =>
        {
            var check = await tokens.ValidateAsync(AuthEndpoints.BearerToken(http.Request)).ConfigureAwait(false);
            if (!check.Valid)
            {
                return AuthEndpoints.Error(StatusCodes.Status401Unauthorized, check.Error!); // why: no token, expired, logged out, ...
            }
            if (hub.LivePlayer(check.AccountId) is not { } live)
            {
                return AuthEndpoints.Error(StatusCodes.Status404NotFound, "no session in the game");
            }
            var p = live.Player;
            return Results.Json(new
            {
                playerId = p.Id,
                clientId = live.ClientId,
                phase = live.Phase.ToString(),
                zone = p.Zone.ToString(),
                x = p.X,
                y = p.Y,
                credits = p.Credits,
                shipType = p.ShipType,
                hull = p.Hull,
                explored = p.Explored.Count,
                updatedAt = p.UpdatedAt,
            });
        });
    }
}
