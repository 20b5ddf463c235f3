using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bot.Features;

/// <summary>
/// Everything the bot says, from the resource files beside each feature (<c>Features/X/messages.en.json</c>,
/// <c>messages.ru.json</c>), embedded in the binary. A text is addressed as "Feature.key" and may hold named
/// placeholders ({count}); a missing translation falls back to English.
/// </summary>
public sealed class Texts
{
    public const string English = "en";
    public const string Russian = "ru";

    public static readonly string[] Languages = [English, Russian];

    private readonly FrozenDictionary<string, FrozenDictionary<string, string>> byLanguage;

    public Texts() : this(LoadEmbedded())
    {
    }

    public Texts(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> texts) =>
        byLanguage = texts.ToFrozenDictionary(l => l.Key, l => l.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.Ordinal);

    public IReadOnlyDictionary<string, FrozenDictionary<string, string>> All => byLanguage;

    public string Get(string language, string key)
    {
        if (byLanguage.TryGetValue(language, out var texts) && texts.TryGetValue(key, out var text))
        {
            return text;
        }

        return byLanguage.TryGetValue(English, out var english) && english.TryGetValue(key, out var fallback)
            ? fallback
            : throw new KeyNotFoundException($"no text '{key}'");
    }

    /// <summary>The text with each {name} replaced by its value.</summary>
    public string Format(string language, string key, params ReadOnlySpan<(string Name, object? Value)> values)
    {
        var text = new StringBuilder(Get(language, key));
        foreach (var (name, value) in values)
        {
            text.Replace("{" + name + "}", Convert.ToString(value, CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>A supported language from a choice (/lang) or Telegram's language_code: Russian for ru*, English otherwise.</summary>
    public static string Resolve(string? chosen, string? languageCode)
    {
        if (chosen is not null && Languages.Contains(chosen))
        {
            return chosen;
        }

        return languageCode is not null && languageCode.StartsWith(Russian, StringComparison.OrdinalIgnoreCase) ? Russian : English;
    }

    private static Dictionary<string, IReadOnlyDictionary<string, string>> LoadEmbedded()
    {
        // Resource names: Messages/<Feature>/messages.<language>.json
        var assembly = typeof(Texts).Assembly;
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Messages/", StringComparison.Ordinal)))
        {
            var parts = name.Split('/');
            var file = parts[^1].Split('.');
            if (parts.Length != 3 || file.Length != 3)
            {
                throw new InvalidOperationException($"unexpected text resource {name}");
            }

            var (feature, language) = (parts[1], file[1]);
            using var stream = assembly.GetManifestResourceStream(name)!;
            var texts = JsonSerializer.Deserialize(stream, TextsJson.Default.DictionaryStringString)
                ?? throw new InvalidOperationException($"text resource {name} is empty");
            if (!result.TryGetValue(language, out var existing))
            {
                existing = new Dictionary<string, string>(StringComparer.Ordinal);
                result[language] = existing;
            }

            var merged = (Dictionary<string, string>)existing;
            foreach (var (key, text) in texts)
            {
                merged[$"{feature}.{key}"] = text;
            }
        }

        return result;
    }
}

[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
internal sealed partial class TextsJson : JsonSerializerContext;
