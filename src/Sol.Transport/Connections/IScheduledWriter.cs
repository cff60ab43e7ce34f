namespace Sol.Transport.Connections;

/// <summary>A connection's writer as <see cref="SendScheduler"/> sees it.</summary>
internal interface IScheduledWriter
{
    /// <summary>Writes what is queued and returns without blocking (a flush that must wait continues on its own).</summary>
    void RunWriter();
}
