using System.Text;
using System.Text.Json;
using Bot.Hosting;
using Bot.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Bot.Tests.Unit.Telemetry;

public sealed class ErrorTrackingTests
{
    private const string Token = "123456789:AAE-secret-half-of-the-token_xyz";

    [Theory]
    [InlineData("https://0123abcd@o1.ingest.sentry.io/42", true)]
    [InlineData("http://key@127.0.0.1:9000/7", true)]
    [InlineData("https://key:secret@sentry.example.com/sub/path/9", true)]
    [InlineData("https://sentry.example.com/42", false)]
    [InlineData("https://key@sentry.example.com/", false)]
    [InlineData("ftp://key@sentry.example.com/42", false)]
    [InlineData("key@sentry.example.com/42", false)]
    [InlineData("not a dsn", false)]
    public void A_dsn_has_a_scheme_a_public_key_a_host_and_a_project(string value, bool valid) =>
        Assert.Equal(valid, ErrorTracking.IsDsn(value));

    [Fact]
    public void Every_line_of_an_envelope_is_redacted_and_each_items_length_is_what_it_now_holds()
    {
        using var redactor = new SecretRedactor(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Telegram:BotToken"] = Token }).Build());
        var secretHalf = Token[(Token.IndexOf(':', StringComparison.Ordinal) + 1)..];
        var eventJson = $$"""{"exception":{"values":[{"type":"HttpRequestException","value":"POST https://api.telegram.org/bot{{Token}}/sendMessage"}]},"breadcrumbs":[{"message":"{{secretHalf}}"}]}""";
        var clientReport = """{"discarded_events":[]}""";
        var envelope = Encoding.UTF8.GetBytes(
            $$"""{"event_id":"abc","note":"{{secretHalf}}"}""" + "\n"
            + $$"""{"type":"event","length":{{Encoding.UTF8.GetByteCount(eventJson)}}}""" + "\n" + eventJson + "\n"
            + """{"type":"client_report"}""" + "\n" + clientReport + "\n");

        var lines = Encoding.UTF8.GetString(RedactingEnvelopeHandler.Redact(envelope, redactor)).Split('\n');

        Assert.DoesNotContain(lines, line => line.Contains(secretHalf, StringComparison.Ordinal));
        Assert.Equal("""{"event_id":"abc","note":"[redacted]"}""", lines[0]);
        var header = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("event", header.GetProperty("type").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(lines[2]), header.GetProperty("length").GetInt32());
        Assert.Contains("/bot[redacted]/sendMessage", JsonDocument.Parse(lines[2]).RootElement.GetProperty("exception").GetProperty("values")[0].GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Equal("""{"type":"client_report"}""", lines[3]);
        Assert.Equal(clientReport, lines[4]);
    }

    [Fact]
    public void A_payload_that_holds_newlines_is_read_by_its_length_and_kept_whole()
    {
        using var redactor = new SecretRedactor(new ConfigurationBuilder().Build());
        var payload = "{\"a\":1}\n{\"b\":2}";
        var envelope = Encoding.UTF8.GetBytes("{}\n" + $$"""{"type":"attachment","length":{{payload.Length}}}""" + "\n" + payload + "\n");

        var text = Encoding.UTF8.GetString(RedactingEnvelopeHandler.Redact(envelope, redactor));

        Assert.Equal("{}\n" + $$"""{"type":"attachment","length":{{payload.Length}}}""" + "\n" + payload + "\n", text);
    }
}
