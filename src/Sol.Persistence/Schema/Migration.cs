namespace Sol.Persistence.Schema;

/// <summary>One versioned step of the schema, as SQL for one dialect.</summary>
internal sealed record Migration(int Version, string Name, string Sql);
