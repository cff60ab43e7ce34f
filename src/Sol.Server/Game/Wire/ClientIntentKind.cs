namespace Sol.Server.Game.Wire;

/// <summary>What a decoded client message asks for.</summary>
public enum ClientIntentKind : byte
{
    Unknown = 0,
    Input,
    Jump,
    Land,
    TakeOff,
    Colonize,
    Ping,
    SetRoute,
    Reauth,
}
