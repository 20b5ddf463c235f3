using System.Reflection;

namespace Bot.Tests.Integration.Infrastructure;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The bot under test: BOT_BINARY (the published AOT binary in CI) or this build's JIT apphost.</summary>
    public static string BotBinary { get; } = FindBinary();

    public static bool IsNativeAot => Environment.GetEnvironmentVariable("BOT_BINARY") is { Length: > 0 };

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Bot.sln not found above " + AppContext.BaseDirectory);
    }

    private static string FindBinary()
    {
        var configured = Environment.GetEnvironmentVariable("BOT_BINARY");
        if (!string.IsNullOrEmpty(configured))
        {
            var full = Path.GetFullPath(configured, Root);
            return File.Exists(full) ? full : throw new InvalidOperationException($"BOT_BINARY {full} does not exist");
        }

        var configuration = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "BotConfiguration").Value!;
        var path = Path.Combine(Root, "src", "Bot", "bin", configuration, "net10.0", "Bot");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} does not exist; build src/Bot first");
    }
}
