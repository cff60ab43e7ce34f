namespace Sol.Server.Game.Port;

/// <summary>What carries the game port (<c>--game-transport</c>).</summary>
public enum GameTransportKind
{
    /// <summary>Sol.Transport's WebSocket server on Pipelines.Sockets.Unofficial sockets.</summary>
    Pipelines,

    /// <summary>Sol.Transport's WebSocket server on Kestrel's socket transport.</summary>
    Kestrel,

    /// <summary>Sol.Transport's WebSocket server on its own raw socket loop (the default; sends made on the flushing thread).</summary>
    Raw,

    /// <summary>ASP.NET Core's WebSockets middleware (the first port; kept as a baseline to measure against).</summary>
    AspNet,
}
