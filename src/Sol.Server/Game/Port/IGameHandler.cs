using System.Buffers;

namespace Sol.Server.Game.Port;

/// <summary>What a game port calls: the game's side of every connection.</summary>
public interface IGameHandler
{
    /// <summary>Checks the upgrade request before <c>101</c>: the token (from the Authorization header or the
    /// <c>access_token</c> query parameter) and the client id to resume (the <c>client_id</c> parameter).</summary>
    Task<HandshakeVerdict> AuthenticateAsync(string? token, string? resumeClientId);

    /// <summary>The connection is open; the game sends Welcome and places the ship.</summary>
    Task OnConnectedAsync(IGameConnection connection);

    /// <summary>One complete binary message, on the connection's receive loop (one at a time per connection).</summary>
    void OnMessage(IGameConnection connection, ReadOnlySequence<byte> message);

    /// <summary>The connection is gone (closed by either side, or broken).</summary>
    Task OnClosedAsync(IGameConnection connection);
}
