using System.Globalization;
using System.Text.RegularExpressions;

namespace Sol.Persistence.Schema;

/// <summary>
/// Reads the migrations embedded from <c>Migrations/</c>: <c>NNNN_name.sql</c> serves both dialects (with <c>${UUID}</c>
/// filled in per dialect); <c>NNNN_name.sqlite.sql</c> / <c>NNNN_name.cockroach.sql</c> replace it for one dialect when the
/// SQL must differ.
/// </summary>
internal static partial class MigrationSource
{
    private const string Prefix = "Sol.Persistence.Migrations.";

    public static IReadOnlyList<Migration> Load(SqlDialect dialect)
    {
        var assembly = typeof(MigrationSource).Assembly;
        var chosen = new SortedDictionary<int, (string Name, string Resource, bool Specific)>();
        var suffix = dialect == SqlDialect.Sqlite ? ".sqlite" : ".cockroach";
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var match = FileName().Match(resource[Prefix.Length..]);
            if (!match.Success)
            {
                throw new InvalidOperationException($"migration resource '{resource}' is not named NNNN_name[.dialect].sql");
            }
            var dialectPart = match.Groups["dialect"].Value;
            if (dialectPart.Length > 0 && dialectPart != suffix)
            {
                continue;
            }
            var version = int.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture);
            var specific = dialectPart.Length > 0;
            if (!chosen.TryGetValue(version, out var existing) || (specific && !existing.Specific))
            {
                chosen[version] = (match.Groups["name"].Value, resource, specific);
            }
        }

        var migrations = new List<Migration>(chosen.Count);
        var expected = 1;
        foreach (var (version, (name, resource, _)) in chosen)
        {
            if (version != expected)
            {
                throw new InvalidOperationException($"migrations must be numbered 1, 2, 3 ... without gaps; found {version} where {expected} was due");
            }
            expected++;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            var sql = reader.ReadToEnd().Replace("${UUID}", dialect == SqlDialect.Sqlite ? "TEXT" : "UUID", StringComparison.Ordinal);
            migrations.Add(new Migration(version, name, sql));
        }
        return migrations;
    }

    [GeneratedRegex(@"^(?<version>\d{4})_(?<name>[a-z0-9_]+)(?<dialect>\.sqlite|\.cockroach)?\.sql$")]
    private static partial Regex FileName();
}
