using System.Text;
using Bot.Coordination;
using Bot.Hosting;
using Bot.Ingest;
using Bot.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Telemetry;

internal static class TelemetryFixtures
{
    public const string Token = "123456:AAH-unit-test-secret-token-value";
    public const string WebhookSecretValue = "unit-webhook-secret-value";
    public const string DbPassword = "unit-db-password-value";
    public const string AdminToken = "unit-admin-token-value";

    public static readonly string[] Secrets = [Token, "AAH-unit-test-secret-token-value", WebhookSecretValue, DbPassword, AdminToken];

    public static Dictionary<string, string?> SecretSettings() => new()
    {
        ["Telegram:BotToken"] = Token,
        ["Telegram:WebhookSecret"] = WebhookSecretValue,
        ["Database:ConnectionString"] = "Host=db;Username=bot",
        ["Database:Password"] = DbPassword,
        ["Admin:Token"] = AdminToken,
    };

    public static SecretRedactor Redactor() => new(new ConfigurationBuilder().AddInMemoryCollection(SecretSettings()).Build());

    /// <summary>
    /// A BotMetrics whose meter lives until <paramref name="lifetime"/> is disposed: a "Bot" meter left alive
    /// would report into the next test's MeterProvider (they match meters by name).
    /// </summary>
    public static BotMetrics Metrics(out IDisposable lifetime, LeadershipState? leadership = null, QueueSnapshot? queues = null)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        lifetime = services;
        return new BotMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            leadership ?? new LeadershipState(), queues ?? new QueueSnapshot(TimeProvider.System));
    }

    /// <summary>The meter factory of a lifetime <see cref="Metrics"/> returned.</summary>
    public static System.Diagnostics.Metrics.IMeterFactory MeterFactory(IDisposable lifetime) =>
        ((IServiceProvider)lifetime).GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();

    /// <summary>The real webhook endpoint over an in-memory inbox that keeps what it was given.</summary>
    public static (WebhookEndpoint Endpoint, RecordingStore Store, InboxWriter Writer) Webhook(BotMetrics metrics)
    {
        var store = new RecordingStore();
        var writer = new InboxWriter(store, Options.Create(new IngestOptions()), NullLogger<InboxWriter>.Instance);
        var endpoint = new WebhookEndpoint(writer, new WebhookSecret(WebhookSecretValue), new IngestBudget(Options.Create(new IngestOptions())), metrics, Options.Create(new IngestOptions()),
            NullLogger<WebhookEndpoint>.Instance);
        return (endpoint, store, writer);
    }

    public static DefaultHttpContext WebhookRequest(long updateId, long chatId, string text)
    {
        var context = new DefaultHttpContext();
        var json = $$$"""{"update_id":{{{updateId}}},"message":{"message_id":1,"date":1700000000,"chat":{"id":{{{chatId}}},"type":"private"},"from":{"id":{{{chatId}}},"is_bot":false,"first_name":"A"},"text":"{{{text}}}"}}""";
        var body = Encoding.UTF8.GetBytes(json);
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        context.Request.Headers[WebhookEndpoint.SecretHeader] = WebhookSecretValue;
        context.Response.Body = new MemoryStream();
        return context;
    }

    internal sealed class RecordingStore : IInboxStore
    {
        private readonly HashSet<long> ids = [];

        public List<InboxRecord> Rows { get; } = [];

        public Task<IReadOnlySet<long>> InsertAsync(IReadOnlyList<InboxRecord> records, CancellationToken cancellationToken)
        {
            lock (ids)
            {
                var inserted = records.Where(r => ids.Add(r.UpdateId)).ToList();
                Rows.AddRange(inserted);
                return Task.FromResult<IReadOnlySet<long>>(inserted.Select(r => r.UpdateId).ToHashSet());
            }
        }

        public bool IsDataError(Exception exception) => false;
    }
}
