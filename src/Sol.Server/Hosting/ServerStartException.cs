using System.Net.Sockets;

namespace Sol.Server.Hosting;

/// <summary>The server cannot start; the message is one line for the operator (exit code 1).</summary>
public sealed class ServerStartException : Exception
{
    public ServerStartException()
    {
    }

    public ServerStartException(string message)
        : base(message)
    {
    }

    public ServerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Whether binding a listener failed because the address is taken: a socket error, as is or wrapped (an
    /// IOException from Kestrel), or Kestrel's own AddressInUseException (known by its message).</summary>
    public static bool IsAddressInUse(Exception e) => e switch
    {
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        { InnerException: { } inner } when IsAddressInUse(inner) => true,
        _ => e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase),
    };
}
