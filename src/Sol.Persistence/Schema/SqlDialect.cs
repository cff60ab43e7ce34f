namespace Sol.Persistence.Schema;

/// <summary>The two SQL dialects the schema is written for.</summary>
internal enum SqlDialect
{
    Sqlite,
    Cockroach,
}
