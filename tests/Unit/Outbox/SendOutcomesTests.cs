using Bot.Outbox;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;

namespace Bot.Tests.Unit.Outbox;

public sealed class SendOutcomesTests
{
    private const int MaxAttempts = 10;
    private const string Error = "the failure as recorded";

    /// <summary>Jitter in the middle of its range: the backoff is exactly 2^attempt seconds (up to its cap).</summary>
    private const double NoJitter = 0.5;

    /// <summary>What the row's settlement must be; RetryAfterSeconds null means no retry is scheduled.</summary>
    public sealed record Expected(
        SettlementKind Kind, double? RetryAfterSeconds = null, bool CountsAsAttempt = false, bool PausesSending = false, bool IsConfigurationProblem = false);

    public static TheoryData<string, Exception, string, int, Expected> Failures => new()
    {
        {
            "429 with retry_after: the sender pauses for that long, and the attempt does not count",
            new ApiRequestException("Too Many Requests: retry after 7", 429, new ResponseParameters { RetryAfter = 7 }), "sendMessage", 3,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 7, PausesSending: true)
        },
        {
            "429 without retry_after: a second",
            new ApiRequestException("Too Many Requests", 429), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 1, PausesSending: true)
        },
        {
            "400 message is not modified: the edit is already there",
            new ApiRequestException("Bad Request: message is not modified: specified new message content and reply markup are exactly the same", 400), "editMessageText", 1,
            new Expected(SettlementKind.Sent)
        },
        {
            "another 400: the request itself is wrong, sending it again cannot help",
            new ApiRequestException("Bad Request: chat not found", 400), "sendMessage", 1,
            new Expected(SettlementKind.Dead)
        },
        {
            "400 message to delete not found: already gone, a retry would find it gone again",
            new ApiRequestException("Bad Request: message to delete not found", 400), "deleteMessage", 1,
            new Expected(SettlementKind.Dead)
        },
        {
            "400 message can't be deleted: too old or not the bot's, no retry changes that",
            new ApiRequestException("Bad Request: message can't be deleted", 400), "deleteMessage", 1,
            new Expected(SettlementKind.Dead)
        },
        {
            "400 message to edit not found: the message was deleted",
            new ApiRequestException("Bad Request: message to edit not found", 400), "editMessageText", 1,
            new Expected(SettlementKind.Dead)
        },
        {
            "400 message can't be edited: not the bot's message",
            new ApiRequestException("Bad Request: message can't be edited", 400), "editMessageText", 1,
            new Expected(SettlementKind.Dead)
        },
        {
            "403 to a method whose refusal is not the chat's: dead, the chat stays reachable",
            new ApiRequestException("Forbidden: bot is not a member of the supergroup chat", 403), "approveChatJoinRequest", 1,
            new Expected(SettlementKind.Dead)
        },
        {
            "403 to sendMessage in a private chat: the user blocked the bot",
            new ApiRequestException("Forbidden: bot was blocked by the user", 403), "sendMessage", 1,
            new Expected(SettlementKind.Unreachable)
        },
        {
            "401: the token is wrong, retried in a minute without counting",
            new ApiRequestException("Unauthorized", 401), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 60, IsConfigurationProblem: true)
        },
        {
            "404: the API address is wrong, retried in a minute without counting",
            new ApiRequestException("Not Found", 404), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 60, IsConfigurationProblem: true)
        },
        {
            "5xx below the limit: retried after 2^attempt seconds",
            new ApiRequestException("Internal Server Error", 500), "sendMessage", 1,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 2, CountsAsAttempt: true)
        },
        {
            "5xx at the limit: dead",
            new ApiRequestException("Bad Gateway", 502), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Dead)
        },
        {
            "connection failure below the limit: retried",
            new HttpRequestException("Connection refused"), "sendMessage", 4,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 16, CountsAsAttempt: true)
        },
        {
            "connection failure at the limit: dead",
            new HttpRequestException("Connection refused"), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Dead)
        },
        {
            "the library's request failure below the limit: retried",
            new RequestException("Exception during making request", new HttpRequestException("Connection reset")), "copyMessage", 2,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 4, CountsAsAttempt: true)
        },
        {
            "timeout below the limit: retried, the backoff capped at five minutes",
            new TimeoutException("The operation has timed out."), "sendMessage", MaxAttempts - 1,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 300, CountsAsAttempt: true)
        },
        {
            "timeout at the limit: dead",
            new TimeoutException("The operation has timed out."), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Dead)
        },
        {
            "HttpClient's timeout (a TaskCanceledException) below the limit: retried",
            HttpClientTimeout(), "sendMessage", 1,
            new Expected(SettlementKind.Retry, RetryAfterSeconds: 2, CountsAsAttempt: true)
        },
        {
            "HttpClient's timeout (a TaskCanceledException) at the limit: dead",
            HttpClientTimeout(), "sendMessage", MaxAttempts,
            new Expected(SettlementKind.Dead)
        },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failed_call_is_settled_by_what_telegram_answered(string answer, Exception exception, string method, int attempt, Expected expected)
    {
        var settlement = SendOutcomes.Classify(exception, Error, method, attempt, MaxAttempts, RefusalIsNotTheChats, NoJitter);

        var actual = new Expected(
            settlement.Kind, settlement.RetryAfter?.TotalSeconds, settlement.CountsAsAttempt, settlement.PausesSending, settlement.IsConfigurationProblem);
        Assert.True(expected == actual, $"{answer}\nexpected {expected}\nactual   {actual}");
        Assert.Null(settlement.Result);
        Assert.Equal(expected.Kind == SettlementKind.Sent ? null : Error, settlement.Error);
    }

    public static TheoryData<int, double, double> Backoffs => new()
    {
        // attempt, jitter, seconds: half to one and a half times 2^attempt, capped at 300 before jitter.
        { 1, 0, 1 },
        { 1, 0.999, 2.998 },
        { 5, 0, 16 },
        { 5, 0.25, 24 },
        { 9, 0, 150 },
        { 9, 0.999, 449.7 },
    };

    [Theory]
    [MemberData(nameof(Backoffs))]
    public void A_transient_failure_is_retried_after_a_jittered_backoff_within_bounds(int attempt, double jitter, double seconds)
    {
        var settlement = SendOutcomes.Classify(new HttpRequestException("Connection refused"), Error, "sendMessage", attempt, MaxAttempts, RefusalIsNotTheChats, jitter);

        Assert.Equal(SettlementKind.Retry, settlement.Kind);
        Assert.Equal(seconds, settlement.RetryAfter!.Value.TotalSeconds, precision: 3);
        Assert.InRange(settlement.RetryAfter.Value, TimeSpan.FromSeconds(0.5), SendOutcomes.MaxBackoff * 1.5);
    }

    [Fact]
    public void A_403_is_the_chats_unless_a_feature_says_otherwise_for_that_method()
    {
        var forbidden = new ApiRequestException("Forbidden: bot was blocked by the user", 403);

        Assert.Equal(SettlementKind.Unreachable, SendOutcomes.Classify(forbidden, Error, "approveChatJoinRequest", 1, MaxAttempts, _ => false, NoJitter).Kind);
        Assert.Equal(SettlementKind.Dead, SendOutcomes.Classify(forbidden, Error, "approveChatJoinRequest", 1, MaxAttempts, m => m == "approveChatJoinRequest", NoJitter).Kind);
    }

    // As a join decision's: queued under the requester's chat, refused for the group.
    private static bool RefusalIsNotTheChats(string method) => method is "approveChatJoinRequest";

    private static TaskCanceledException HttpClientTimeout() =>
        new("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.", new TimeoutException("The operation was canceled."));
}
