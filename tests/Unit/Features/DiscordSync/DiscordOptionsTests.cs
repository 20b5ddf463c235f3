using Bot.Features;
using Bot.Features.DiscordSync;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bot.Tests.Unit.Features.DiscordSync;

public sealed class DiscordOptionsTests
{
    private static DiscordOptions Complete() => new()
    {
        ClientId = "111111111111111111",
        ClientSecret = "client-secret-value",
        BotToken = "bot-token-value",
        GuildId = "222222222222222222",
        RoleId = "333333333333333333",
        RedirectUri = "https://bot.example.com/discord/callback",
    };

    private static FeatureFlags Flags(bool on) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["FeatureFlags:DiscordSync"] = on ? "true" : "false" }).Build(),
        NullLogger<FeatureFlags>.Instance);

    [Fact]
    public void With_the_flag_off_nothing_is_required()
    {
        using var flags = Flags(on: false);
        Assert.True(new DiscordOptionsValidator(flags).Validate(null, new DiscordOptions()).Succeeded);
    }

    [Fact]
    public void With_the_flag_on_every_setting_is_required_in_its_shape_and_no_value_is_repeated()
    {
        using var flags = Flags(on: true);
        var validator = new DiscordOptionsValidator(flags);
        Assert.True(validator.Validate(null, Complete()).Succeeded);

        var bad = Complete();
        bad.ClientId = "12ab";
        bad.ClientSecret = " ";
        bad.BotToken = null;
        bad.RedirectUri = "https://bot.example.com/elsewhere";
        bad.ApiBaseUrl = "discord.com/api";
        var result = validator.Validate(null, bad);

        Assert.True(result.Failed);
        var failures = string.Join("\n", result.Failures!);
        Assert.Contains("Discord:ClientId must be a Discord id", failures, StringComparison.Ordinal);
        Assert.Contains("Discord:ClientSecret is missing", failures, StringComparison.Ordinal);
        Assert.Contains("Discord:BotToken is missing", failures, StringComparison.Ordinal);
        Assert.Contains("Discord:RedirectUri must be the bot's public", failures, StringComparison.Ordinal);
        Assert.Contains("Discord:ApiBaseUrl must be an absolute", failures, StringComparison.Ordinal);
        Assert.DoesNotContain("12ab", failures, StringComparison.Ordinal);
    }

    [Fact]
    public void The_authorization_url_asks_for_the_code_flow_with_scope_identify_and_carries_the_state_and_the_callback()
    {
        var url = new Uri(DiscordLinkHandler.AuthorizeUrl(Complete(), "st-ate_0123"));
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);

        Assert.Equal("https://discord.com/oauth2/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("identify", query["scope"]);
        Assert.Equal("111111111111111111", query["client_id"]);
        Assert.Equal("st-ate_0123", query["state"]);
        Assert.Equal("https://bot.example.com/discord/callback", query["redirect_uri"]);
        Assert.DoesNotContain("client-secret-value", url.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_is_stored_only_as_its_hash()
    {
        var hash = DiscordStore.Hash("some-state");
        Assert.Equal(32, hash.Length);
        Assert.NotEqual(System.Text.Encoding.UTF8.GetBytes("some-state"), hash);
        Assert.Equal(hash, DiscordStore.Hash("some-state"));
    }
}
