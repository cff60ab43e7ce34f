namespace Sol.Server.Game.Wire;

/// <summary>
/// A verified client message, decoded into a plain struct (no allocation for the per-tick kinds). <see cref="Target"/> is
/// the gate (Jump), planet (Land) or destination system (SetRoute); <see cref="Route"/> and <see cref="Token"/> are only
/// set for SetRoute and Reauth, which are rare.
/// </summary>
public readonly record struct ClientIntent(
    ClientIntentKind Kind, uint Seq, float Thrust, float Turn, bool Fire, uint Target, double ClientTime, uint[]? Route, string? Token);
