namespace Sol.Transport.Frames;

/// <summary>The outcome of parsing a frame header.</summary>
internal enum HeaderParse
{
    /// <summary>More bytes are needed (nothing wrong so far).</summary>
    Incomplete,

    /// <summary>A valid header.</summary>
    Complete,

    /// <summary>A protocol error; the reason is the close status to send.</summary>
    Invalid,
}
