namespace Sol.Transport;

/// <summary>Which socket library accepts connections and turns them into pipes.</summary>
public enum SocketTransportKind
{
    /// <summary>Pipelines.Sockets.Unofficial 2.2.16 (<c>SocketConnection.Create</c> on accepted sockets).</summary>
    Pipelines,

    /// <summary>Kestrel's socket transport (<c>SocketTransportFactory</c> from the ASP.NET Core shared framework).</summary>
    Kestrel,
}
