namespace Sol.Persistence;

/// <summary>
/// The database cannot be reached or opened. The message is one line fit for an operator ("cannot reach the database
/// at 127.0.0.1:26257: connection refused"); the provider's exception is the inner exception.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
