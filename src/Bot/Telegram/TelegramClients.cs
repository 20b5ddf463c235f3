using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Telegram.Bot;

namespace Bot.Telegram;

/// <summary>
/// The Bot API clients, each on an HttpClient from IHttpClientFactory with a declared resilience pipeline:
/// <list type="bullet">
/// <item><see cref="Sender"/> for calls that change something (sendMessage, approveChatJoinRequest): a timeout
/// and a circuit breaker but no retry, because the outbox retries durably and knows which outcomes are
/// unknown; an HTTP-level retry of a call that may have gone through would send twice.</item>
/// <item><see cref="Reader"/> for read-only calls (getChatMember, getMe, getWebhookInfo): retried on transient
/// failures, which is harmless for them.</item>
/// <item><see cref="PollerClient"/> for getUpdates (<see cref="UpdatePoller"/>), whose long poll outlasts the others' timeouts.</item>
/// </list>
/// Telegram.Bot's own retry of 429s is switched off (RetryCount 0) so that the two never multiply: the
/// sender honours retry_after itself.
/// </summary>
public sealed class TelegramClients(IHttpClientFactory factory, IOptions<TelegramOptions> options)
{
    public const string SenderClient = "telegram-sender";
    public const string ReaderClient = "telegram-reader";
    public const string PollerClient = "telegram-poller";

    // Made at the first call, not with the services that hold them: building a client's handler chain and resilience
    // pipeline was a sixth of the start-up's CPU time when the routes' services were made before the ports listened.
    private readonly Lazy<ITelegramBotClient> sender = new(() => Create(factory, options.Value, SenderClient));
    private readonly Lazy<ITelegramBotClient> reader = new(() => Create(factory, options.Value, ReaderClient));

    public ITelegramBotClient Sender => sender.Value;

    public ITelegramBotClient Reader => reader.Value;

    /// <summary>A Bot API client on <paramref name="http"/>: the token, address and environment from the options, no retry of its own.</summary>
    public static TelegramBotClient Create(TelegramOptions options, HttpClient http, CancellationToken cancellationToken = default) =>
        new(new TelegramBotClientOptions(options.BotToken!, options.ApiBaseUrl.TrimEnd('/'), options.UseTestEnvironment) { RetryCount = 0 }, http, cancellationToken);

    private static TelegramBotClient Create(IHttpClientFactory factory, TelegramOptions options, string name) => Create(options, factory.CreateClient(name));
}

public static class TelegramClientRegistration
{
    public static IServiceCollection AddTelegramClients(this IServiceCollection services)
    {
        services.AddHttpClient(TelegramClients.SenderClient, c => c.Timeout = Timeout.InfiniteTimeSpan)
            // Each write asks the calling flow's fence first (SendFence): a leader thawed after its successor took
            // over writes nothing of the calls it had begun.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PlaintextStreamFilter = SendFence.Wrap })
            .AddResilienceHandler("telegram-sender", (pipeline, context) =>
            {
                var timeout = context.ServiceProvider.GetRequiredService<IOptions<TelegramOptions>>().Value.SendTimeoutSeconds;
                pipeline.AddTimeout(TimeSpan.FromSeconds(timeout));
                pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = 0.5,
                    MinimumThroughput = 20,
                    SamplingDuration = TimeSpan.FromSeconds(30),
                    BreakDuration = TimeSpan.FromSeconds(5),
                    ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                });
            });

        services.AddHttpClient(TelegramClients.ReaderClient, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("telegram-reader", pipeline =>
            {
                pipeline.AddTimeout(TimeSpan.FromSeconds(30));
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = 3,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(200),
                    // Not 429: Telegram puts retry_after in the body, and the caller decides what to do.
                    ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                });
                pipeline.AddTimeout(TimeSpan.FromSeconds(8));
            });

        // getUpdates holds the request open for up to its own timeout (25 s); no retry, the poller loops.
        services.AddHttpClient(TelegramClients.PollerClient, c => c.Timeout = TimeSpan.FromSeconds(60));

        // Added after the resilience handlers, so inside them: every attempt on the wire is counted.
        foreach (var name in new[] { TelegramClients.SenderClient, TelegramClients.ReaderClient, TelegramClients.PollerClient })
        {
            services.AddHttpClient(name).AddHttpMessageHandler(sp => new Bot.Telemetry.TelegramApiMetricsHandler(sp.GetRequiredService<Bot.Telemetry.BotMetrics>()));
        }

        services.AddSingleton<TelegramClients>();
        return services;
    }

    // A write the sender's fence refused (SendFence) never reached Telegram: it says nothing of Telegram's health, so it
    // neither opens the circuit nor is retried.
    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception
            ? exception is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException && !SendFence.Refused(exception)
            : outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError or HttpStatusCode.RequestTimeout };
}
