using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Bot.Hosting;
using Microsoft.Extensions.Primitives;

namespace Bot.Features;

/// <summary>One flag: off for everyone, or on for the allow-list plus a stable share of all users.</summary>
public sealed record FeatureFlag(bool Enabled, int Percentage, FrozenSet<long> AllowUserIds)
{
    public static readonly FeatureFlag Off = new(false, 0, FrozenSet<long>.Empty);

    public bool IsEnabledFor(string feature, long userId) =>
        Enabled && (AllowUserIds.Contains(userId) || Percentage >= 100 || (Percentage > 0 && Bucket(feature, userId) < Percentage));

    /// <summary>
    /// 0–99 from a hash of the flag's name and the user id: the same user lands in the same bucket on every replica
    /// and after every restart, and different flags roll out to different users.
    /// </summary>
    public static int Bucket(string feature, long userId)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{feature}:{userId.ToString(CultureInfo.InvariantCulture)}"), hash);
        return (int)(BitConverter.ToUInt32(hash) % 100);
    }
}

/// <summary>
/// Feature flags from the "FeatureFlags" configuration section, re-read whenever configuration reloads (the mounted
/// ConfigMap file), so a flip takes effect without a restart. A flag is either a boolean or
/// <c>{ "Enabled": true, "Percentage": 25, "AllowUserIds": "1,2" }</c>; a flag that is not configured is off.
/// Microsoft.FeatureManagement 4.7 was the first choice, but its Native AOT publish gives 13 trim/AOT warnings
/// and its filters fail to construct at run time, so this small typed reader does the same three things.
/// </summary>
public sealed partial class FeatureFlags : IDisposable
{
    public const string Section = "FeatureFlags";

    private readonly IConfiguration configuration;
    private readonly ILogger<FeatureFlags> logger;
    private readonly IDisposable subscription;
    private volatile FrozenDictionary<string, FeatureFlag> flags;

    public FeatureFlags(IConfiguration configuration, ILogger<FeatureFlags> logger)
    {
        this.configuration = configuration;
        this.logger = logger;
        // A bad value at start stops the process with its name; a bad value in a later reload keeps the flags as they were.
        flags = Parse(configuration.GetSection(Section));
        subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    public bool IsEnabled(string feature, long userId) => Get(feature).IsEnabledFor(feature, userId);

    /// <summary>For what is not about one user (the admin API): on only when the flag is on for everyone.</summary>
    public bool IsEnabledForAll(string feature) => Get(feature) is { Enabled: true, Percentage: >= 100 };

    public FeatureFlag Get(string feature) => flags.TryGetValue(feature, out var flag) ? flag : FeatureFlag.Off;

    public void Dispose() => subscription.Dispose();

    private void Reload()
    {
        try
        {
            var fresh = Parse(configuration.GetSection(Section));
            if (!fresh.OrderBy(f => f.Key).SequenceEqual(flags.OrderBy(f => f.Key), FlagComparer.Instance))
            {
                flags = fresh;
                LogReloaded(logger, string.Join(", ", fresh.Select(f => $"{f.Key}={Describe(f.Value)}")));
            }
        }
        catch (FormatException exception)
        {
            LogRejected(logger, exception.Message);
        }
    }

    private static readonly string[] FlagSettings = ["Enabled", "Percentage", "AllowUserIds"];

    /// <summary>Reads the section; throws <see cref="FormatException"/> naming the setting that is wrong.</summary>
    public static FrozenDictionary<string, FeatureFlag> Parse(IConfigurationSection section)
    {
        var result = new Dictionary<string, FeatureFlag>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            var path = $"{Section}:{child.Key}";
            if (child.Value is { } shorthand)
            {
                result[child.Key] = new FeatureFlag(ParseBool(shorthand, path), 100, FrozenSet<long>.Empty);
                continue;
            }

            // A misspelt setting ("Percent", "RolloutPercent") would otherwise leave the flag on for everyone.
            if (child.GetChildren().FirstOrDefault(c => !FlagSettings.Contains(c.Key, StringComparer.OrdinalIgnoreCase)) is { } unknown)
            {
                throw new FormatException($"{path}:{unknown.Key} is not a flag setting; a flag has {string.Join(", ", FlagSettings)}");
            }

            var enabled = child["Enabled"] is { } e ? ParseBool(e, $"{path}:Enabled") : true;
            var percentage = 100;
            if (child["Percentage"] is { } p)
            {
                if (!int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out percentage) || percentage is < 0 or > 100)
                {
                    throw new FormatException($"{path}:Percentage must be a whole number from 0 to 100, not '{p}'");
                }
            }

            result[child.Key] = new FeatureFlag(enabled, percentage, IdList.Parse(child.GetSection("AllowUserIds"), $"{path}:AllowUserIds").ToFrozenSet());
        }

        return result.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    private static bool ParseBool(string value, string path) =>
        bool.TryParse(value, out var parsed) ? parsed : throw new FormatException($"{path} must be true or false, not '{value}'");

    private static string Describe(FeatureFlag flag) =>
        !flag.Enabled ? "off" : flag.Percentage >= 100 ? "on" : $"{flag.Percentage}%+{flag.AllowUserIds.Count} allowed";

    private sealed class FlagComparer : IEqualityComparer<KeyValuePair<string, FeatureFlag>>
    {
        public static readonly FlagComparer Instance = new();

        public bool Equals(KeyValuePair<string, FeatureFlag> x, KeyValuePair<string, FeatureFlag> y) =>
            string.Equals(x.Key, y.Key, StringComparison.OrdinalIgnoreCase) && x.Value.Enabled == y.Value.Enabled
            && x.Value.Percentage == y.Value.Percentage && x.Value.AllowUserIds.SetEquals(y.Value.AllowUserIds);

        public int GetHashCode(KeyValuePair<string, FeatureFlag> obj) => StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Key);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Feature flags reloaded: {Flags}")]
    private static partial void LogReloaded(ILogger logger, string flags);

    [LoggerMessage(Level = LogLevel.Error, Message = "Feature flags not reloaded, keeping the previous ones: {Error}")]
    private static partial void LogRejected(ILogger logger, string error);
}

/// <summary>What <see cref="FeatureFlagsValidator"/> validates at start (the flags themselves are read from configuration).</summary>
public sealed class FeatureFlagsCheck;

/// <summary>
/// Checks the flags at start-up together with the other settings, so a bad flag stops the process with its name
/// (a bad flag in a later reload only keeps the previous flags).
/// </summary>
public sealed class FeatureFlagsValidator(IConfiguration configuration) : IValidateOptions<FeatureFlagsCheck>
{
    public ValidateOptionsResult Validate(string? name, FeatureFlagsCheck options)
    {
        try
        {
            FeatureFlags.Parse(configuration.GetSection(FeatureFlags.Section));
            return ValidateOptionsResult.Success;
        }
        catch (FormatException exception)
        {
            return ValidateOptionsResult.Fail(exception.Message);
        }
    }
}
