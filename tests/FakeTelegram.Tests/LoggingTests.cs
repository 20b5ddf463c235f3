using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace FakeTelegram.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task One_line_per_call_with_method_chat_and_outcome_and_never_the_token()
    {
        var logs = new CapturingLoggerProvider();
        await using (var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with
        {
            // Everything on, including ASP.NET Core's own request logging that carries the path.
            ConfigureLogging = logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace).AddFilter("Microsoft", LogLevel.Trace),
        }))
        {
            using var api = new BotApiClient(fake);
            using var wrong = new BotApiClient(fake, "123456789-TEST-token-without-colon");
            fake.InjectFault(Fault.BadGateway() with { Method = "getMe" });

            await api.SendMessageAsync(42);
            await api.CallAsync("getMe");
            await wrong.CallAsync("getChatMember", new JsonObject { ["chat_id"] = -1, ["user_id"] = 1 });
        }

        var callLines = logs.Lines.Where(l => l.StartsWith("Information FakeTelegram:", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["Information FakeTelegram: sendMessage chat=42 -> 200 delivered ", "Information FakeTelegram: getMe chat=- -> 502 (injected) ",
             "Information FakeTelegram: getChatMember chat=-1 -> 401 "],
            callLines);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("TEST-token", StringComparison.Ordinal));
    }
}
