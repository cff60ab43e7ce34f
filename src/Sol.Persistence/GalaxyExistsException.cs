namespace Sol.Persistence;

/// <summary>A galaxy of that name is already stored and the caller did not ask to replace it.</summary>
public sealed class GalaxyExistsException : Exception
{
    public GalaxyExistsException()
    {
    }

    public GalaxyExistsException(string message)
        : base(message)
    {
    }

    public GalaxyExistsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
