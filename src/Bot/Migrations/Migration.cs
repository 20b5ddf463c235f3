using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Bot.Migrations;

/// <summary>One versioned schema change: its up and down SQL, embedded in the binary.</summary>
public sealed record Migration(int Version, string Name, string Up, string Down)
{
    /// <summary>A first line of <c>-- migrate:no-transaction</c> runs the script outside a transaction
    /// (needed for <c>CREATE INDEX CONCURRENTLY</c> on a live table).</summary>
    public bool UpInTransaction => !HasNoTransactionDirective(Up);

    public bool DownInTransaction => !HasNoTransactionDirective(Down);

    /// <summary>Identifies the up script as applied, so that an edited migration is noticed.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(Up))));

    private static bool HasNoTransactionDirective(string sql) =>
        sql.TrimStart().StartsWith("-- migrate:no-transaction", StringComparison.Ordinal);

    // Line endings must not change the checksum between a Windows checkout and a Linux build.
    private static string Normalize(string sql) => sql.Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
}

/// <summary>Reads the migrations from a set of named scripts (<c>0001_name.up.sql</c> and <c>0001_name.down.sql</c>).</summary>
public static partial class MigrationCatalog
{
    [GeneratedRegex(@"^(?<version>\d{4,9})_(?<name>[a-z0-9_]+)\.(?<direction>up|down)\.sql$")]
    private static partial Regex FileName();

    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    public static int LatestVersion(IReadOnlyList<Migration> migrations) =>
        migrations.Count == 0 ? 0 : migrations[^1].Version;

    public static IReadOnlyList<Migration> Parse(IEnumerable<(string FileName, string Sql)> scripts)
    {
        var ups = new Dictionary<int, (string Name, string Sql)>();
        var downs = new Dictionary<int, (string Name, string Sql)>();
        foreach (var (fileName, sql) in scripts)
        {
            var match = FileName().Match(fileName);
            if (!match.Success)
            {
                throw new InvalidOperationException(
                    $"migration file '{fileName}' is not named NNNN_name.up.sql or NNNN_name.down.sql");
            }

            var version = int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var target = match.Groups["direction"].Value == "up" ? ups : downs;
            if (!target.TryAdd(version, (match.Groups["name"].Value, sql)))
            {
                throw new InvalidOperationException($"migration version {version} appears twice");
            }
        }

        var result = new List<Migration>();
        foreach (var (version, up) in ups.OrderBy(p => p.Key))
        {
            if (!downs.Remove(version, out var down))
            {
                throw new InvalidOperationException($"migration {version} ({up.Name}) has no down script");
            }

            if (down.Name != up.Name)
            {
                throw new InvalidOperationException(
                    $"migration {version} has an up script named '{up.Name}' and a down script named '{down.Name}'");
            }

            result.Add(new Migration(version, up.Name, up.Sql, down.Sql));
        }

        if (downs.Count > 0)
        {
            throw new InvalidOperationException($"migration {downs.Keys.Min()} has a down script but no up script");
        }

        for (var i = 0; i < result.Count; i++)
        {
            if (result[i].Version != i + 1)
            {
                throw new InvalidOperationException(
                    $"migration versions must run 1, 2, 3, ... without gaps; found {result[i].Version} where {i + 1} belongs");
            }
        }

        return result;
    }

    private static IReadOnlyList<Migration> LoadEmbedded()
    {
        const string prefix = "Migrations/";
        var assembly = typeof(MigrationCatalog).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return (n[prefix.Length..], reader.ReadToEnd());
            });
        return Parse(scripts);
    }
}
