namespace Sol.Bench.Transport;

/// <summary>What a connection of <see cref="DirectBenchServer"/> does, from the <c>role</c> query parameter.</summary>
internal enum DirectRole
{
    /// <summary>Anything but <c>pub</c> or <c>sub</c>: every data frame is sent back.</summary>
    Echo,

    /// <summary><c>role=pub</c>: every data frame is sent to every subscriber.</summary>
    Publisher,

    /// <summary><c>role=sub</c>: receives the broadcasts; what it sends is read and dropped.</summary>
    Subscriber,
}
