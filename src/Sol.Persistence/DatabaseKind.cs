namespace Sol.Persistence;

/// <summary>Which store a database address selects.</summary>
public enum DatabaseKind
{
    Sqlite,
    Cockroach,
}
