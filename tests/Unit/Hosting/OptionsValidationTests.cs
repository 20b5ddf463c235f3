using Bot.Hosting;
using Bot.Storage;
using Bot.Telegram;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Hosting;

public sealed class OptionsValidationTests
{
    [Fact]
    public void A_valid_telegram_configuration_passes()
    {
        var options = new TelegramOptions { BotToken = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_-abcd", WebhookSecret = "0123456789abcdef" };

        Assert.True(new TelegramOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new TelegramModeValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Failures_name_the_setting_and_never_echo_the_value()
    {
        var options = new TelegramOptions { BotToken = "SENTINEL-not-a-token", WebhookSecret = "SENTINEL has spaces", ApiBaseUrl = "SENTINEL" };

        var result = new TelegramOptionsValidator().Validate(null, options);
        var line = StartupError.Describe(new OptionsValidationException("Telegram", typeof(TelegramOptions), result.Failures));

        Assert.StartsWith("configuration error: Telegram:", line, StringComparison.Ordinal);
        Assert.Contains("Telegram:BotToken", line, StringComparison.Ordinal);
        Assert.Contains("Telegram:WebhookSecret", line, StringComparison.Ordinal);
        Assert.Contains("Telegram:ApiBaseUrl", line, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void Webhook_mode_needs_a_secret_and_polling_mode_does_not()
    {
        Assert.True(new TelegramModeValidator().Validate(null, new TelegramOptions { Mode = UpdateMode.Webhook }).Failed);
        Assert.True(new TelegramModeValidator().Validate(null, new TelegramOptions { Mode = UpdateMode.Polling }).Succeeded);
    }

    [Fact]
    public void The_same_port_twice_and_a_bad_bind_address_are_refused()
    {
        var result = new HostingRulesValidator().Validate(null, new HostingOptions { PublicPort = 9000, InternalPort = 9000, BindAddress = "localhost" });

        Assert.Equal(2, result.Failures!.Count());
    }

    [Fact]
    public void The_database_password_secret_is_merged_into_the_connection_string()
    {
        var built = Database.BuildConnectionString(new DatabaseOptions { ConnectionString = "Host=db;Username=bot;Database=bot", Password = "p@ss;word" });

        Assert.Equal("p@ss;word", new Npgsql.NpgsqlConnectionStringBuilder(built).Password);
    }

    [Fact]
    public void An_unparseable_connection_string_is_reported_without_its_content()
    {
        var error = Assert.Throws<StartupException>(() =>
            Database.BuildConnectionString(new DatabaseOptions { ConnectionString = "Host=db;Passwrod=SENTINEL;=" }));

        Assert.Contains("Database:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", error.Message, StringComparison.Ordinal);
    }
}
