using Bot.Ingest;

namespace Bot.Tests.Unit.Ingest;

public sealed class WebhookSecretTests
{
    private readonly WebhookSecret secret = new("s3cret-token_value-0123");

    [Fact]
    public void The_configured_secret_matches() => Assert.True(secret.Matches("s3cret-token_value-0123"));

    [Theory]
    [InlineData("")]
    [InlineData("s3cret-token_value-012")]
    [InlineData("s3cret-token_value-01234")]
    [InlineData("S3cret-token_value-0123")]
    [InlineData("s3cret-token_value-0123 ")]
    public void Anything_else_does_not(string presented) => Assert.False(secret.Matches(presented));

    [Fact]
    public void An_absurdly_long_header_is_refused_without_hashing_it() =>
        Assert.False(secret.Matches(new string('a', 100_000)));
}
