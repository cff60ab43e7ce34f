namespace Sol.Transport.Frames;

/// <summary>What <see cref="MessageReader.Read{TSink}"/> stopped at.</summary>
internal enum ReadOutcome
{
    /// <summary>Everything complete was handled; read more.</summary>
    NeedMore,

    /// <summary>The peer's close frame was handled; read no further.</summary>
    Closed,

    /// <summary>A protocol violation: close with the returned status.</summary>
    Failed,
}
