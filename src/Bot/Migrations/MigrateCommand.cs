using System.Globalization;
using Bot.Hosting;
using Bot.Storage;
using Microsoft.Extensions.Options;

namespace Bot.Migrations;

/// <summary><c>Bot migrate up|down [--to VERSION]|status|create NAME</c>.</summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Length == 0)
        {
            throw new StartupException("usage: Bot migrate up|down [--to VERSION]|status|create NAME", ExitCodes.Usage);
        }

        if (args[0] == "create")
        {
            if (args.Length is not (2 or 4) || (args.Length == 4 && args[2] != "--feature"))
            {
                throw new StartupException("usage: Bot migrate create NAME [--feature FEATURE]", ExitCodes.Usage);
            }

            foreach (var path in MigrationScaffold.Create(Directory.GetCurrentDirectory(), args[1], args.Length == 4 ? args[3] : null))
            {
                output.WriteLine($"created {path}");
            }

            return ExitCodes.Success;
        }

        var target = ParseTarget(args);
        await using var dataSource = Database.CreateDataSource(LoadDatabaseOptions());
        var migrator = new Migrator(dataSource, MigrationCatalog.Embedded, output);
        switch (args[0])
        {
            case "up":
                await migrator.UpAsync(target, cancellationToken);
                return ExitCodes.Success;
            case "down":
                await migrator.DownAsync(target, cancellationToken);
                return ExitCodes.Success;
            case "status" when target is null:
                var rows = await migrator.StatusAsync(cancellationToken);
                output.WriteLine($"{"version",-8} {"name",-32} {"state",-9} applied at");
                foreach (var row in rows)
                {
                    var state = row.State.ToString().ToLowerInvariant();
                    var at = row.AppliedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";
                    output.WriteLine($"{row.Version,-8:D4} {row.Name,-32} {state,-9} {at}");
                }

                var current = rows.Where(r => r.State != MigrationState.Pending).Select(r => r.Version).DefaultIfEmpty(0).Max();
                output.WriteLine($"schema at version {current}; this release needs {migrator.LatestVersion}");
                return ExitCodes.Success;
            default:
                throw new StartupException("usage: Bot migrate up|down [--to VERSION]|status|create NAME", ExitCodes.Usage);
        }
    }

    private static int? ParseTarget(string[] args)
    {
        if (args.Length == 1)
        {
            return null;
        }

        if (args.Length == 3 && args[1] == "--to" && int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var to))
        {
            return to;
        }

        throw new StartupException($"usage: Bot migrate {args[0]} [--to VERSION] (VERSION is a whole number)", ExitCodes.Usage);
    }

    private static DatabaseOptions LoadDatabaseOptions()
    {
        var configuration = BotConfiguration.BuildForCommand([]);
        var options = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        StartupError.ThrowIfInvalid(DatabaseOptions.Section, options, [], new DatabaseOptionsValidator());
        return options;
    }
}

/// <summary>
/// Writes the next numbered up/down pair into the source tree: into <c>Migrations/Sql/</c>, or with a feature into
/// that feature's own <c>Features/&lt;Feature&gt;/Migrations/</c>. Versions are numbered across all folders.
/// </summary>
public static partial class MigrationScaffold
{
    [System.Text.RegularExpressions.GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial System.Text.RegularExpressions.Regex ValidName();

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Z][A-Za-z0-9]{0,63}$")]
    private static partial System.Text.RegularExpressions.Regex ValidFeature();

    public static IReadOnlyList<string> Create(string startDirectory, string name, string? feature = null)
    {
        if (!ValidName().IsMatch(name))
        {
            throw new StartupException("a migration name is lower case letters, digits and underscores, starting with a letter", ExitCodes.Usage);
        }

        var folder = FindFolder(startDirectory)
            ?? throw new StartupException("no src/Bot/Migrations/Sql above the current directory: run migrate create inside the source tree", ExitCodes.Usage);
        var source = Path.GetDirectoryName(Path.GetDirectoryName(folder))!;
        if (feature is not null)
        {
            var featureFolder = Path.Combine(source, "Features", feature);
            if (!ValidFeature().IsMatch(feature) || !Directory.Exists(featureFolder))
            {
                throw new StartupException($"no feature folder src/Bot/Features/{feature}", ExitCodes.Usage);
            }

            folder = Directory.CreateDirectory(Path.Combine(featureFolder, "Migrations")).FullName;
        }

        var all = Directory.GetFiles(Path.Combine(source, "Migrations", "Sql"), "*.sql")
            .Concat(Directory.GetDirectories(Path.Combine(source, "Features")).SelectMany(f =>
                Directory.Exists(Path.Combine(f, "Migrations")) ? Directory.GetFiles(Path.Combine(f, "Migrations"), "*.sql") : []));
        var existing = all.Select(Path.GetFileName)
            .Select(f => (f ?? "").Split('_')[0])
            .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0);
        var version = existing.DefaultIfEmpty(0).Max() + 1;
        var stem = Path.Combine(folder, $"{version:D4}_{name}");
        var up = stem + ".up.sql";
        var down = stem + ".down.sql";
        File.WriteAllText(up,
            $"""
            -- {version:D4} {name}: expand only (add, never drop or rename what the previous release reads).
            -- Put "-- migrate:no-transaction" on the first line for a single CREATE INDEX CONCURRENTLY.

            """);
        File.WriteAllText(down, $"-- Reverts {version:D4} {name}.\n");
        return [up, down];
    }

    private static string? FindFolder(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Bot", "Migrations", "Sql");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
