using System.Globalization;
using Npgsql;

namespace Sol.Persistence;

/// <summary>
/// A parsed <c>--db</c> value. <see cref="Target"/> is a SQLite file path or an Npgsql connection string.
/// </summary>
/// <remarks>
/// URLs follow libpq: <c>postgresql://user:password@host:port/database?sslmode=disable&amp;application_name=sol</c>.
/// The default port is 26257 for <c>cockroachdb://</c> and 5432 for <c>postgres(ql)://</c>; the default database is
/// <c>defaultdb</c> (CockroachDB's) or <c>postgres</c>.
/// </remarks>
public sealed record DatabaseAddress(DatabaseKind Kind, string Target)
{
    public static DatabaseAddress Parse(string database)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        var text = database.Trim();
        if (text.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var file = text["sqlite:".Length..].Trim();
            return file.Length > 0 ? new DatabaseAddress(DatabaseKind.Sqlite, file) : throw new ArgumentException($"--db: '{text}' names no SQLite file (e.g. sqlite:./data/sol.db)");
        }
        if (text.Contains("://", StringComparison.Ordinal))
        {
            return new DatabaseAddress(DatabaseKind.Cockroach, FromUrl(text));
        }
        if (text.Contains("Host=", StringComparison.OrdinalIgnoreCase) || text.Contains("Server=", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new DatabaseAddress(DatabaseKind.Cockroach, new NpgsqlConnectionStringBuilder(text).ConnectionString);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                throw new ArgumentException($"--db: not a valid connection string: {e.Message.ReplaceLineEndings(" ")}", e);
            }
        }
        return new DatabaseAddress(DatabaseKind.Sqlite, text);
    }

    private static string FromUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"--db: '{text}' is not a valid URL");
        }
        var scheme = uri.Scheme.ToLowerInvariant();
        var cockroach = scheme is "cockroachdb" or "cockroach";
        if (!cockroach && scheme is not ("postgresql" or "postgres"))
        {
            throw new ArgumentException($"--db: unknown scheme '{uri.Scheme}://' (use postgresql://, cockroachdb:// or a SQLite file path)");
        }
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Length > 0 ? uri.Host : "127.0.0.1",
            Port = uri.IsDefaultPort || uri.Port <= 0 ? (cockroach ? 26257 : 5432) : uri.Port,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } db ? Uri.UnescapeDataString(db) : (cockroach ? "defaultdb" : "postgres"),
            ApplicationName = "sol",
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key)
            {
                case "sslmode":
                    builder.SslMode = value.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new ArgumentException($"--db: unknown sslmode '{value}'"),
                    };
                    break;
                case "sslrootcert":
                    builder.RootCertificate = value;
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "connect_timeout":
                    // Npgsql takes 0-1024 s (0: wait forever).
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 1024)
                    {
                        throw new ArgumentException($"--db: connect_timeout must be a whole number of seconds from 0 to 1024, not '{value}'");
                    }
                    builder.Timeout = seconds;
                    break;
                default:
                    throw new ArgumentException($"--db: unsupported URL parameter '{key}'");
            }
        }
        return builder.ConnectionString;
    }
}
