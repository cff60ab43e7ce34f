namespace Sol.Transport.Handshake;

/// <summary>Whether the pipe holds a whole request head yet.</summary>
internal enum HeadScan
{
    /// <summary>No blank line yet, and still under the size limit.</summary>
    Incomplete,

    /// <summary>The head (through the blank line) is there.</summary>
    Complete,

    /// <summary>No blank line within the size limit: 431.</summary>
    TooLarge,
}
