using Bot.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bot.Tests.Unit.Features;

public sealed class FeatureFlagsTests
{
    [Fact]
    public void A_flag_is_a_boolean_or_an_object_and_a_missing_flag_is_off()
    {
        var flags = Create(new()
        {
            ["FeatureFlags:On"] = "true",
            ["FeatureFlags:Off"] = "false",
            ["FeatureFlags:Object:Enabled"] = "true",
        });

        Assert.True(flags.IsEnabled("On", 1));
        Assert.False(flags.IsEnabled("Off", 1));
        Assert.True(flags.IsEnabled("Object", 1));
        Assert.False(flags.IsEnabled("Missing", 1));
        Assert.True(flags.IsEnabled("on", 1)); // configuration keys are case-insensitive
    }

    [Fact]
    public void A_percentage_rollout_takes_a_stable_share_of_users_and_the_allow_list_always()
    {
        var flags = Create(new()
        {
            ["FeatureFlags:Gate:Percentage"] = "25",
            ["FeatureFlags:Gate:AllowUserIds"] = "7, 8",
        });

        var enabled = Enumerable.Range(1000, 10_000).Count(id => flags.IsEnabled("Gate", id));
        Assert.InRange(enabled, 2_200, 2_800);
        Assert.True(flags.IsEnabled("Gate", 7));
        Assert.True(flags.IsEnabled("Gate", 8));
        // The same user gets the same answer on every replica and after every restart.
        var again = Create(new() { ["FeatureFlags:Gate:Percentage"] = "25" });
        Assert.All(Enumerable.Range(1000, 500), id => Assert.Equal(flags.IsEnabled("Gate", id), again.IsEnabled("Gate", id)));
        Assert.False(flags.IsEnabledForAll("Gate"));
    }

    [Fact]
    public void Different_flags_roll_out_to_different_users() =>
        Assert.NotEqual(
            Enumerable.Range(0, 200).Select(id => FeatureFlag.Bucket("A", id) < 50),
            Enumerable.Range(0, 200).Select(id => FeatureFlag.Bucket("B", id) < 50));

    [Fact]
    public void Disabled_wins_over_the_allow_list()
    {
        var flags = Create(new() { ["FeatureFlags:Gate:Enabled"] = "false", ["FeatureFlags:Gate:AllowUserIds"] = "7" });
        Assert.False(flags.IsEnabled("Gate", 7));
    }

    [Theory]
    [InlineData("FeatureFlags:Gate", "yes", "FeatureFlags:Gate must be true or false")]
    [InlineData("FeatureFlags:Gate:Percentage", "150", "FeatureFlags:Gate:Percentage must be a whole number from 0 to 100")]
    [InlineData("FeatureFlags:Gate:AllowUserIds", "1,abc", "FeatureFlags:Gate:AllowUserIds must list Telegram ids")]
    [InlineData("FeatureFlags:Gate:RolloutPercent", "25", "FeatureFlags:Gate:RolloutPercent is not a flag setting")]
    public void A_bad_value_is_an_error_that_names_the_setting(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var error = Assert.Throws<FormatException>(() => FeatureFlags.Parse(configuration.GetSection(FeatureFlags.Section)));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reload_takes_effect_and_a_bad_reload_keeps_the_previous_flags()
    {
        var source = new Dictionary<string, string?> { ["FeatureFlags:Gate"] = "false" };
        var provider = new ReloadableProvider(source);
        var configuration = new ConfigurationBuilder().Add(new ReloadableSource(provider)).Build();
        using var flags = new FeatureFlags(configuration, NullLogger<FeatureFlags>.Instance);
        Assert.False(flags.IsEnabled("Gate", 1));

        provider.Change("FeatureFlags:Gate", "true");
        Assert.True(flags.IsEnabled("Gate", 1));

        provider.Change("FeatureFlags:Gate", "maybe");
        Assert.True(flags.IsEnabled("Gate", 1));
    }

    private static FeatureFlags Create(Dictionary<string, string?> values) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), NullLogger<FeatureFlags>.Instance);

    private sealed class ReloadableSource(ReloadableProvider provider) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => provider;
    }

    private sealed class ReloadableProvider(Dictionary<string, string?> initial) : ConfigurationProvider
    {
        public override void Load() => Data = new Dictionary<string, string?>(initial, StringComparer.OrdinalIgnoreCase);

        public void Change(string key, string value)
        {
            Data[key] = value;
            OnReload();
        }
    }
}
