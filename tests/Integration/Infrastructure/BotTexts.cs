using System.Text.Json;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>The bot's texts, read from its resource files in the source tree (the binary under test embeds the same files).</summary>
internal static class BotTexts
{
    private static readonly Lazy<string> FeaturesDirectory = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bot.sln")))
            {
                return Path.Combine(directory.FullName, "src", "Bot", "Features");
            }
        }

        throw new InvalidOperationException("the source tree (Bot.sln) was not found above the test binaries");
    });

    /// <summary>A text as "Feature.key" in a language, placeholders left as they are.</summary>
    public static string Get(string language, string key)
    {
        var (feature, name) = (key[..key.IndexOf('.')], key[(key.IndexOf('.') + 1)..]);
        using var file = File.OpenRead(Path.Combine(FeaturesDirectory.Value, feature, $"messages.{language}.json"));
        using var json = JsonDocument.Parse(file);
        return json.RootElement.GetProperty(name).GetString()!;
    }

    /// <summary>The text up to its first placeholder: what a filled-in text starts with.</summary>
    public static string Prefix(string language, string key)
    {
        var text = Get(language, key);
        var brace = text.IndexOf('{');
        return brace < 0 ? text : text[..brace];
    }
}
