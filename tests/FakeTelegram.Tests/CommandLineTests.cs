namespace FakeTelegram.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Defaults_to_loopback_port_8081_with_Telegrams_limits()
    {
        var (options, error) = CommandLine.Parse([]);

        Assert.Null(error);
        Assert.Equal("http://127.0.0.1:8081", options!.ListenUrl);
        Assert.Equal(RateLimits.Telegram, options.RateLimits);
        Assert.Empty(options.Tokens);
    }

    [Theory]
    [InlineData(new[] { "--port", "9999" }, "http://127.0.0.1:9999")]
    [InlineData(new[] { "--urls", "http://127.0.0.1:8082" }, "http://127.0.0.1:8082")]
    [InlineData(new[] { "--urls", "http://127.0.0.1:8083;http://[::1]:8083" }, "http://127.0.0.1:8083")]
    public void Takes_the_address_from_urls_or_port(string[] args, string url)
    {
        Assert.Equal(url, CommandLine.Parse(args).Options!.ListenUrl);
    }

    [Fact]
    public void Takes_tokens_limits_and_webhook_validation()
    {
        var (options, _) = CommandLine.Parse(["--token", "1:a", "--token", "2:b", "--no-rate-limits", "--allow-http-webhooks"]);

        Assert.Equal(["1:a", "2:b"], options!.Tokens);
        Assert.False(options.RateLimits.Enabled);
        Assert.False(options.ValidateWebhookUrls);
    }

    [Fact]
    public void Keeps_as_many_calls_as_asked()
    {
        Assert.Equal(250_000, CommandLine.Parse(["--max-recorded-calls", "250000"]).Options!.MaxRecordedCalls);
        Assert.Equal(100_000, CommandLine.Parse([]).Options!.MaxRecordedCalls);
    }

    [Theory]
    [InlineData("--max-recorded-calls", "0")]
    [InlineData("--port")]
    [InlineData("--port", "http")]
    [InlineData("--bogus")]
    public void Refuses_what_it_does_not_understand(params string[] args)
    {
        var (options, error) = CommandLine.Parse(args);

        Assert.Null(options);
        Assert.NotNull(error);
    }
}
