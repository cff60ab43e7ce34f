namespace Sol.Persistence.Model;

/// <summary>How a colonize request ended; only <see cref="Founded"/> changed anything.</summary>
public enum ColonizeOutcome
{
    Founded,
    NotEnoughCredits,
    AlreadyColonized,
    UnknownPlayer,
}
