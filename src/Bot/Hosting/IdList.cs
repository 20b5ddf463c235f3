using System.Globalization;

namespace Bot.Hosting;

/// <summary>
/// Telegram ids from configuration: a comma-separated string ("1,-100200") as the chart and the environment
/// give them, or a JSON array. A value that is not an id is an error that names the setting.
/// </summary>
public static class IdList
{
    public static IReadOnlyList<long> Parse(IConfigurationSection section, string path)
    {
        if (section.Value is { } joined)
        {
            return Parse(joined, path);
        }

        return section.GetChildren().Select(child => ParseOne(child.Value ?? "", $"{path}:{child.Key}")).ToArray();
    }

    public static IReadOnlyList<long> Parse(string? joined, string path) =>
        string.IsNullOrWhiteSpace(joined)
            ? []
            : joined.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(part => ParseOne(part, path)).ToArray();

    private static long ParseOne(string value, string path) =>
        long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new FormatException($"{path} must list Telegram ids (whole numbers), not '{value}'");
}
