using System.Net;
using Bot.Telegram;
using Telegram.Bot;

namespace Bot.Tests.Unit.Telegram;

/// <summary>Telegram__UseTestEnvironment: the Bot API client and the poller address Telegram's test environment.</summary>
public sealed class TestEnvironmentTests
{
    private const string Token = "123456789:unit-test-token-not-real-aaaaaaaa";

    [Theory]
    [InlineData(false, "/bot123456789:unit-test-token-not-real-aaaaaaaa/getMe")]
    [InlineData(true, "/bot123456789:unit-test-token-not-real-aaaaaaaa/test/getMe")]
    public async Task The_client_calls_the_path_of_its_environment(bool testEnvironment, string path)
    {
        var handler = new Recorder();
        using var http = new HttpClient(handler);
        var options = new TelegramOptions { BotToken = Token, ApiBaseUrl = "https://api.example.org/", UseTestEnvironment = testEnvironment };

        await TelegramClients.Create(options, http).GetMe(TestContext.Current.CancellationToken);

        Assert.Equal("https://api.example.org" + path, Assert.Single(handler.Requests).ToString());
    }

    [Fact]
    public void The_poller_builds_its_address_as_the_library_does()
    {
        var options = new TelegramOptions { BotToken = Token, ApiBaseUrl = "http://127.0.0.1:8081/" };
        Assert.Equal($"http://127.0.0.1:8081/bot{Token}/getUpdates", options.MethodUri("getUpdates").ToString());
        options.UseTestEnvironment = true;
        Assert.Equal($"http://127.0.0.1:8081/bot{Token}/test/getUpdates", options.MethodUri("getUpdates").ToString());
    }

    private sealed class Recorder : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"ok":true,"result":{"id":123456789,"is_bot":true,"first_name":"Bot","username":"unit_bot"}}"""),
            });
        }
    }
}
