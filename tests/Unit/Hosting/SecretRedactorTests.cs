using Bot.Hosting;
using Bot.Tests.Unit.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Bot.Tests.Unit.Hosting;

public sealed class SecretRedactorTests
{
    private static IConfigurationRoot Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    [Theory]
    [InlineData("x")]
    [InlineData("ab")]
    [InlineData("s3cr")]
    [InlineData("1234567")]
    public void A_secret_of_any_length_is_redacted(string secret)
    {
        using var redactor = new SecretRedactor(Configuration(new() { ["Admin:Token"] = secret }));

        Assert.Equal($"Bearer {SecretRedactor.Mask} and {SecretRedactor.Mask}!", redactor.Redact($"Bearer {secret} and {secret}!"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void A_blank_setting_is_no_secret(string value)
    {
        using var redactor = new SecretRedactor(Configuration(new() { ["Admin:Token"] = value, ["Telegram:WebhookSecret"] = value }));
        var text = "nothing to hide here   at all";

        Assert.Same(text, redactor.Redact(text));
        Assert.Same(string.Empty, redactor.Redact(string.Empty));
    }

    [Fact]
    public void Text_without_a_secret_comes_back_as_the_same_instance()
    {
        using var redactor = TelemetryFixtures.Redactor();
        var text = "POST https://api.telegram.org/bot123456:other/sendMessage";

        Assert.Same(text, redactor.Redact(text));
        Assert.False(redactor.Contains(text));
    }

    [Fact]
    public void The_token_and_its_secret_half_are_redacted_wherever_they_appear()
    {
        using var redactor = TelemetryFixtures.Redactor();
        var half = TelemetryFixtures.Token[(TelemetryFixtures.Token.IndexOf(':', StringComparison.Ordinal) + 1)..];

        Assert.Equal("/bot[redacted]/getMe then [redacted] then [redacted][redacted]",
            redactor.Redact($"/bot{TelemetryFixtures.Token}/getMe then {half} then {TelemetryFixtures.WebhookSecretValue}{TelemetryFixtures.AdminToken}"));
    }

    [Fact]
    public void Every_secret_setting_is_redacted_including_the_password_in_the_connection_string()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Telegram:BotToken"] = "1:bot-token-secret",
            ["Telegram:WebhookSecret"] = "webhook-secret",
            ["Database:Password"] = "db-password",
            ["Database:ConnectionString"] = "Host=db;Username=bot;Password=inline-password",
            ["Database:ReadConnectionString"] = "Host=db-ro;Username=bot;Password=standby-password",
            ["Admin:Token"] = "admin-current",
            ["Admin:PreviousToken"] = "admin-previous",
            ["Admin:ReadToken"] = "read-current",
            ["Admin:PreviousReadToken"] = "read-previous",
        };
        using var redactor = new SecretRedactor(Configuration(settings));

        foreach (var secret in new[] { "bot-token-secret", "webhook-secret", "db-password", "inline-password", "standby-password", "admin-current", "admin-previous", "read-current", "read-previous" })
        {
            Assert.Equal("<[redacted]>", redactor.Redact($"<{secret}>"));
        }
    }

    [Fact]
    public void The_escaped_forms_of_a_secret_are_redacted_too()
    {
        const string password = "p\"w+d <&> 'ü";
        using var redactor = new SecretRedactor(Configuration(new() { ["Database:Password"] = password }));

        Assert.Equal("[redacted]", redactor.Redact(password));
        Assert.Equal("?password=[redacted]", redactor.Redact("?password=" + Uri.EscapeDataString(password)));
        Assert.Equal("{\"p\":\"[redacted]\"}", redactor.Redact("{\"p\":\"" + System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(password) + "\"}"));
    }

    [Fact]
    public void A_rotated_in_secret_is_redacted_after_the_reload_and_the_rotated_out_one_still_is()
    {
        var configuration = Configuration(new() { ["Admin:Token"] = "first-admin-token", ["Admin:ReadToken"] = "first-read-token" });
        using var redactor = new SecretRedactor(configuration);
        Assert.Equal("second-admin-token", redactor.Redact("second-admin-token"));

        // What a rotation does to the secrets directory: the current token becomes the previous one.
        configuration["Admin:PreviousToken"] = "first-admin-token";
        configuration["Admin:Token"] = "second-admin-token";
        configuration["Admin:PreviousReadToken"] = "first-read-token";
        configuration["Admin:ReadToken"] = "second-read-token";
        configuration.Reload();

        Assert.Equal("[redacted] [redacted]", redactor.Redact("second-admin-token second-read-token"));
        Assert.Equal("[redacted] [redacted]", redactor.Redact("first-admin-token first-read-token"));

        // The next rotation drops the first token from the settings altogether: it stays redacted.
        configuration["Admin:PreviousToken"] = "second-admin-token";
        configuration["Admin:Token"] = "third-admin-token";
        configuration.Reload();

        Assert.Equal("[redacted] [redacted] [redacted]", redactor.Redact("first-admin-token second-admin-token third-admin-token"));
    }

    [Fact]
    public void The_values_kept_after_rotation_are_bounded_and_the_oldest_go_first()
    {
        var configuration = Configuration(new() { ["Admin:Token"] = "admin-token-0000" });
        using var redactor = new SecretRedactor(configuration);

        // Each value has one form here (nothing to escape), so every rotation retires one value.
        for (var i = 1; i <= SecretRedactor.RetiredLimit + 1; i++)
        {
            configuration["Admin:Token"] = $"admin-token-{i:D4}";
            configuration.Reload();
        }

        Assert.Equal("admin-token-0000", redactor.Redact("admin-token-0000"));
        Assert.Equal("[redacted]", redactor.Redact("admin-token-0001"));
        Assert.Equal("[redacted]", redactor.Redact($"admin-token-{SecretRedactor.RetiredLimit:D4}"));
        Assert.Equal("[redacted]", redactor.Redact($"admin-token-{SecretRedactor.RetiredLimit + 1:D4}"));
    }

    [Fact]
    public void Attribute_values_are_redacted_in_the_form_an_exporter_writes_them()
    {
        using var redactor = TelemetryFixtures.Redactor();
        var token = TelemetryFixtures.Token;
        var uri = new Uri($"https://api.telegram.org/bot{token}/getMe");
        string[] strings = ["a", token];
        object?[] objects = [1, uri, null];
        string[] clean = ["a", "b"];

        Assert.Equal("https://api.telegram.org/bot[redacted]/getMe", redactor.RedactValue(uri));
        var redactedStrings = Assert.IsType<string[]>(redactor.RedactValue(strings));
        Assert.Equal(["a", "[redacted]"], redactedStrings);
        Assert.Equal(["a", token], strings);
        Assert.Equal([1, "https://api.telegram.org/bot[redacted]/getMe", null], Assert.IsType<object?[]>(redactor.RedactValue(objects)));
        Assert.Same(clean, redactor.RedactValue(clean));
        Assert.Equal(42, redactor.RedactValue(42));
        Assert.Null(redactor.RedactValue(null));
    }
}

/// <summary>The redactor reads secrets by configuration key: the keys are the options' own names.</summary>
public sealed class SecretKeyNameTests
{
    [Fact]
    public void The_secret_keys_are_the_options_names() =>
        Assert.Equal(
            [
                $"{Bot.Telegram.TelegramOptions.Section}:{nameof(Bot.Telegram.TelegramOptions.BotToken)}",
                $"{Bot.Telegram.TelegramOptions.Section}:{nameof(Bot.Telegram.TelegramOptions.WebhookSecret)}",
                $"{Bot.Storage.DatabaseOptions.Section}:{nameof(Bot.Storage.DatabaseOptions.Password)}",
                $"{Bot.Admin.AdminOptions.Section}:{nameof(Bot.Admin.AdminOptions.Token)}",
                $"{Bot.Admin.AdminOptions.Section}:{nameof(Bot.Admin.AdminOptions.PreviousToken)}",
                $"{Bot.Admin.AdminOptions.Section}:{nameof(Bot.Admin.AdminOptions.ReadToken)}",
                $"{Bot.Admin.AdminOptions.Section}:{nameof(Bot.Admin.AdminOptions.PreviousReadToken)}",
                $"{Bot.Telemetry.ErrorTracking.Section}:Dsn",
                $"{Bot.Features.DiscordSync.DiscordOptions.Section}:{nameof(Bot.Features.DiscordSync.DiscordOptions.ClientSecret)}",
                $"{Bot.Features.DiscordSync.DiscordOptions.Section}:{nameof(Bot.Features.DiscordSync.DiscordOptions.BotToken)}",
                $"{Bot.Storage.DatabaseOptions.Section}:{nameof(Bot.Storage.DatabaseOptions.ConnectionString)}",
                $"{Bot.Storage.DatabaseOptions.Section}:{nameof(Bot.Storage.DatabaseOptions.ReadConnectionString)}",
            ],
            [.. Bot.Hosting.SecretRedactor.SecretKeys, .. Bot.Hosting.SecretRedactor.ConnectionStringKeys]);
}
