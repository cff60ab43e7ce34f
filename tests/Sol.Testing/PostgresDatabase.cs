using Npgsql;

namespace Sol.Testing;

/// <summary>
/// The throwaway PostgreSQL cluster that <c>scripts/test.sh</c> starts. Each test class gets a database of its own
/// so classes can run in parallel without seeing each other's rows.
/// </summary>
public static class PostgresDatabase
{
    /// <summary>The environment variable the test script exports.</summary>
    public const string Variable = "SOL_TEST_POSTGRES";

    /// <summary>The cluster's connection string, or null when none was started.</summary>
    public static string? ServerConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } s ? s : null;

    /// <summary>
    /// True when PostgreSQL tests must not be skipped: under CI a missing cluster is a failure, not a skip.
    /// </summary>
    public static bool Required => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Creates a fresh, uniquely named database and returns its connection string. Throws when no cluster is
    /// configured and <see cref="Required"/> holds; returns null (the caller skips) otherwise.
    /// </summary>
    public static async Task<string?> CreateAsync(string prefix)
    {
        var server = ServerConnectionString;
        if (server is null)
        {
            if (Required)
            {
                throw new InvalidOperationException($"CI=true but {Variable} is not set: PostgreSQL tests must run in CI. Use scripts/test.sh.");
            }
            return null;
        }

        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var conn = new NpgsqlConnection(server))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = true }.ConnectionString;
    }
}
