using Bot.Features;

namespace Bot.Tests.Unit.Features;

/// <summary>The feature list as the bot composes it: every command described in every language, none declared twice.</summary>
public sealed class FeatureModelTests
{
    private static readonly Texts Texts = new();

    [Fact]
    public void Every_command_has_a_description_in_every_language()
    {
        var commands = BotApplication.Features().Commands();
        Assert.Contains(commands.All, c => c.Name == "ping");
        foreach (var command in commands.All)
        {
            foreach (var language in Texts.Languages)
            {
                Assert.True(Texts.All[language].TryGetValue(command.DescriptionKey, out var description) && description.Length is > 0 and <= 256,
                    $"/{command.Name} has no {language} description ({command.DescriptionKey}), or one longer than Telegram's 256 characters");
            }
        }
    }

    [Fact]
    public void Command_names_are_what_Telegram_accepts_and_each_is_declared_once()
    {
        var commands = BotApplication.Features().Commands().All;
        Assert.All(commands, c => Assert.Matches("^[a-z0-9_]{1,32}$", c.Name));
        Assert.Equal(commands.Count, commands.Select(c => c.Name).Distinct().Count());
        Assert.Throws<InvalidOperationException>(() => new CommandRegistry([new CommandSpec("x", CommandAccess.Everyone, "A"), new CommandSpec("x", CommandAccess.Admins, "B")]));
    }

    [Fact]
    public void A_feature_cannot_be_listed_twice()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new FeatureList().Add<Bot.Features.Ping.PingFeature>().Add<Bot.Features.Ping.PingFeature>());
        Assert.Contains("PingFeature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Admins_see_their_commands_and_others_do_not()
    {
        var commands = BotApplication.Features().Commands();
        Assert.DoesNotContain(commands.For(isAdmin: false), c => c.Name is "broadcast" or "stats");
        Assert.Contains(commands.For(isAdmin: true), c => c.Name == "broadcast");
        Assert.Equal(commands.All.Count(c => c.Flag is null), commands.For(isAdmin: true).Count());
    }

    [Fact]
    public void A_flagged_features_commands_are_listed_only_where_its_flag_is_on()
    {
        var commands = BotApplication.Features().Commands();
        Assert.DoesNotContain(commands.For(isAdmin: false), c => c.Name is "link" or "unlink");
        Assert.DoesNotContain(commands.For(isAdmin: true, flagOn: _ => false), c => c.Name is "link" or "unlink");
        Assert.Equal(["link", "unlink"], commands.For(isAdmin: false, flagOn: flag => flag == "DiscordSync").Where(c => c.Flag is not null).Select(c => c.Name));
        Assert.Equal(commands.All.Count, commands.For(isAdmin: true, flagOn: _ => true).Count());
    }
}
