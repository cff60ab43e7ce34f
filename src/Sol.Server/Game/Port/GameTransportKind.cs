namespace Sol.Server.Game.Port;

/// <summary>What carries the game port (<c>--game-transport</c>).</summary>
public enum GameTransportKind
{
    /// <summary>Sol.Transport's WebSocket server on Pipelines.Sockets.Unofficial sockets.</summary>
    Pipelines,

    /// <summary>Sol.Transport's WebSocket server on Kestrel's socket transport.</summary>
    Kestrel,

    /// <summary>ASP.NET Core's WebSockets middleware (the first port; kept as a baseline to measure against).</summary>
    AspNet,
}
