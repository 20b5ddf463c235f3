using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

public sealed class FaultTests
{
    [Fact]
    public async Task A_fault_answers_exactly_count_calls_then_calls_succeed_again()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.InternalServerError() with { Count = 2 });

        var answers = new List<ApiAnswer>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add(await api.SendMessageAsync(7));
        }

        Assert.Equal([500, 500, 200], answers.Select(a => a.Status));
        Assert.Equal("Internal Server Error", answers[0].Description);
        Assert.Single(fake.Deliveries(7));
        Assert.Empty(fake.PendingFaults());
        Assert.All(fake.Calls().Take(2), c => Assert.True(c.Injected && !c.Delivered));
    }

    [Fact]
    public async Task A_fault_for_a_method_and_chat_leaves_other_calls_alone()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.BlockedByUser() with { Method = "sendMessage", ChatId = 8 });

        var otherMethod = await api.CallAsync("sendChatAction", new JsonObject { ["chat_id"] = 8, ["action"] = "typing" });
        var otherChat = await api.SendMessageAsync(7);
        var hit = await api.SendMessageAsync(8);
        var afterwards = await api.SendMessageAsync(8);

        Assert.True(otherMethod.Ok);
        Assert.True(otherChat.Ok);
        Assert.Equal(403, hit.Status);
        Assert.Equal("Forbidden: bot was blocked by the user", hit.Description);
        Assert.True(afterwards.Ok);
    }

    [Fact]
    public async Task An_injected_429_carries_retry_after_and_counts_as_a_429_but_not_a_violation()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.TooManyRequests(17));

        var answer = await api.SendMessageAsync(7);

        Assert.Equal(429, answer.Status);
        Assert.Equal("Too Many Requests: retry after 17", answer.Description);
        Assert.Equal(17, answer.RetryAfter);
        var stats = fake.Stats();
        Assert.Equal(1, stats.TooManyRequests);
        Assert.Equal(0, stats.RateLimitViolations);
    }

    [Fact]
    public async Task A_400_gets_Bad_Request_in_front_of_the_description()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.BadRequest("query is too old and response timeout expired or query ID is invalid"));

        var answer = await api.CallAsync("answerCallbackQuery", new JsonObject { ["callback_query_id"] = "1" });

        Assert.Equal(400, answer.Status);
        Assert.Equal("Bad Request: query is too old and response timeout expired or query ID is invalid", answer.Description);
    }

    [Fact]
    public async Task A_502_is_an_HTML_page_as_the_front_proxy_sends_it()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.BadGateway());

        var answer = await api.CallAsync("getMe");

        Assert.Equal(502, answer.Status);
        Assert.Null(answer.Body);
        Assert.Contains("502 Bad Gateway", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_call_is_delivered_at_once_and_answered_after_the_delay()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.Slow(TimeSpan.FromSeconds(5)));

        var pending = api.SendMessageAsync(7, "slow", TestContext.Current.CancellationToken);
        var recorded = await fake.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(pending.IsCompleted);
        var answer = await time.AdvanceUntilDone(pending, TimeSpan.FromSeconds(1));

        Assert.Equal("slow", Assert.Single(recorded).Text);
        Assert.True(answer.Ok);
        Assert.Equal(recorded[0].MessageId, answer.MessageId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_timed_out_call_is_never_answered_and_delivered_only_if_the_fault_says_so(bool delivered)
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.Timeout(delivered));
        using var clientTimeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        clientTimeout.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => api.SendMessageAsync(7, "lost?", clientTimeout.Token));

        var call = Assert.Single(fake.Calls());
        Assert.Null(call.Status);
        Assert.True(call.Injected);
        Assert.Equal(delivered, call.Delivered);
        Assert.Equal(delivered ? 1 : 0, fake.Deliveries(7).Count);
        Assert.True((await api.SendMessageAsync(8)).Ok);
    }

    [Theory]
    [InlineData(ChatBlock.BlockedByUser, 7, "Forbidden: bot was blocked by the user")]
    [InlineData(ChatBlock.UserDeactivated, 7, "Forbidden: user is deactivated")]
    [InlineData(ChatBlock.Kicked, -42, "Forbidden: bot was kicked from the group chat")]
    [InlineData(ChatBlock.Kicked, -1001234567890, "Forbidden: bot was kicked from the supergroup chat")]
    public async Task Every_send_to_a_blocked_chat_is_403_until_unblocked(ChatBlock reason, long chat, string description)
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        fake.BlockChat(chat, reason);

        var message = await api.SendMessageAsync(chat);
        var copy = await api.CallAsync("copyMessage", new JsonObject { ["chat_id"] = chat, ["from_chat_id"] = 1, ["message_id"] = 1 });
        fake.UnblockChat(chat);
        var after = await api.SendMessageAsync(chat);

        Assert.Equal((403, description), (message.Status, message.Description));
        Assert.Equal((403, description), (copy.Status, copy.Description));
        Assert.True(after.Ok);
        Assert.Single(fake.Deliveries(chat));
    }

    [Fact]
    public async Task Faults_and_blocks_can_be_set_through_the_control_API()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };

        using var faults = await control.PostAsync(new Uri("/_fake/faults", UriKind.Relative), new StringContent(
            """[{"status":429,"retry_after":3,"method":"sendMessage","count":2},{"status":400,"description":"Bad Request: TOPIC_CLOSED","chat_id":9}]"""),
            TestContext.Current.CancellationToken);
        using var blocked = await control.PostAsync(new Uri("/_fake/blocked", UriKind.Relative),
            new StringContent("""{"chat_id":10,"reason":"user_deactivated"}"""), TestContext.Current.CancellationToken);
        using var bad = await control.PostAsync(new Uri("/_fake/faults", UriKind.Relative),
            new StringContent("""{"method":"sendMessage"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(204, (int)faults.StatusCode);
        Assert.Equal(204, (int)blocked.StatusCode);
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal(2, fake.PendingFaults().Count);
        Assert.Equal(3, (await api.SendMessageAsync(1)).RetryAfter);
        Assert.Equal(3, (await api.SendMessageAsync(9)).RetryAfter);
        Assert.Equal("Bad Request: TOPIC_CLOSED", (await api.SendMessageAsync(9)).Description);
        Assert.Equal("Forbidden: user is deactivated", (await api.SendMessageAsync(10)).Description);
        Assert.True((await api.SendMessageAsync(9)).Ok);
    }
}
