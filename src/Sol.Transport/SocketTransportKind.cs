namespace Sol.Transport;

/// <summary>Which socket code accepts connections and moves their bytes (<see cref="Raw"/>, our own, is the default).</summary>
public enum SocketTransportKind
{
    /// <summary>Pipelines.Sockets.Unofficial 2.2.16 (<c>SocketConnection.Create</c> on accepted sockets).</summary>
    Pipelines,

    /// <summary>Kestrel's socket transport (<c>SocketTransportFactory</c> from the ASP.NET Core shared framework).</summary>
    Kestrel,

    /// <summary>
    /// Sol.Transport's own loop on plain sockets (the default): a receive loop into the input pipe, and sends made on the
    /// flushing thread with one non-blocking <c>sendmsg</c> per flush (asynchronous only while the kernel's buffer is full).
    /// </summary>
    Raw,
}
