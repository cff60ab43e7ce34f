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

    /// <summary>
    /// Why binding a listener failed, for the operator's line ("address already in use", "cannot assign requested
    /// address" for an address this host does not have, "permission denied" for a port below 1024), or null when
    /// <paramref name="e"/> is not a failure to listen.
    /// </summary>
    public static string? CannotListen(Exception e)
    {
        if (IsAddressInUse(e))
        {
            return "address already in use";
        }
        for (var inner = (Exception?)e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                var why = socket.Message.Length > 0 ? char.ToLowerInvariant(socket.Message[0]) + socket.Message[1..] : socket.SocketErrorCode.ToString();
                return socket.SocketErrorCode == SocketError.AccessDenied ? why + " (ports below 1024 need privileges)" : why;
            }
        }
        return null;
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
