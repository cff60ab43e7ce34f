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
}
