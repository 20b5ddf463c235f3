using System.Text;
using Bot.Ingest;

namespace Bot.Tests.Unit.Ingest;

public sealed class WebhookParsingTests
{
    [Fact]
    public void A_valid_update_keeps_its_exact_bytes_as_the_payload()
    {
        const string json = """{"update_id":77,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"ü ✓","x_unknown":{"kept":true}}}""";

        Assert.True(UpdateParser.TryParse(Encoding.UTF8.GetBytes(json), out var record, out _));
        Assert.Equal(77, record.UpdateId);
        Assert.Equal(5, record.ChatId);
        Assert.Equal("message", record.Kind);
        Assert.Equal(json, record.Payload);
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D })]
    [InlineData(new byte[] { 0x7B, 0x22, 0x75, 0x70, 0x64, 0x61, 0x74, 0x65, 0x5F, 0x69, 0x64, 0x22, 0x3A, 0x31, 0x2C, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D })]
    public void Invalid_utf8_is_refused(byte[] body)
    {
        Assert.False(UpdateParser.TryParse(body, out _, out var problem));
        Assert.Contains("UTF-8", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"update_id\":0}")]
    [InlineData("{\"update_id\":-3}")]
    [InlineData("{\"update_id\":1.5}")]
    [InlineData("{\"update_id\":1e3}")]
    [InlineData("{\"update_id\":true}")]
    [InlineData("{\"update_id\":1,\"message\":[]}")]
    [InlineData("{\"update_id\":1,}")]
    [InlineData("{\"update_id\":1}{\"update_id\":2}")]
    public void Anything_but_an_update_with_an_id_is_refused(string json)
    {
        Assert.False(UpdateParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var problem));
        Assert.StartsWith("body is not a Telegram update", problem, StringComparison.Ordinal);
    }
}
