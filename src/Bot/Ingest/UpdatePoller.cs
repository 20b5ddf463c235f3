using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Coordination;
using Bot.Hosting;
using Bot.Telegram;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Bot.Storage;
using Npgsql;

namespace Bot.Ingest;

/// <summary>
/// Polling mode (development): the leader long-polls getUpdates, writes each batch to the inbox, and only
/// then moves the offset on, which is what tells Telegram the batch may be forgotten. The offset is kept in
/// the database, so a new leader continues where the last one stopped; a batch fetched twice is deduplicated
/// by the inbox key. Calls getUpdates over plain HTTP so that each update is stored exactly as Telegram sent it.
/// </summary>
public sealed partial class UpdatePoller(
    IHttpClientFactory factory, IOptions<TelegramOptions> options, IInboxStore inbox, NpgsqlDataSource dataSource,
    SecretRedactor redactor, BotMetrics metrics, TimeProvider time, ILogger<UpdatePoller> logger) : ILeaderSingleton
{
    private const string OffsetKey = "telegram.getUpdates.offset";

    public string Name => "update-poller";

    public async Task RunAsync(CancellationToken leadership)
    {
        var telegram = options.Value;
        var client = factory.CreateClient(TelegramClients.PollerClient);
        var url = telegram.MethodUri("getUpdates");
        var offset = await ReadOffsetAsync(leadership);
        var failures = 0;
        while (!leadership.IsCancellationRequested)
        {
            try
            {
                var request = new GetUpdates(offset, 100, 25, telegram.AllowedUpdateKinds().ToArray());
                using var response = await client.PostAsJsonAsync(url, request, PollerJson.Default.GetUpdates, leadership);
                await using var body = await response.Content.ReadAsStreamAsync(leadership);
                using var document = await JsonDocument.ParseAsync(body, cancellationToken: leadership);
                var root = document.RootElement;
                if (!root.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
                {
                    var description = root.TryGetProperty("description", out var d) ? d.GetString() : response.StatusCode.ToString();
                    throw new HttpRequestException($"getUpdates refused: {description}");
                }

                var records = new List<InboxRecord>();
                long? last = null;
                foreach (var element in root.GetProperty("result").EnumerateArray())
                {
                    var raw = Encoding.UTF8.GetBytes(element.GetRawText());
                    if (UpdateParser.TryParse(raw, out var record, out var problem))
                    {
                        // No request to hang it on: each polled update starts its own trace here.
                        using (var ingest = BotActivities.StartIngest(record.UpdateId, record.Kind))
                        {
                            records.Add(record with { TraceContext = ingest?.Id });
                        }

                        last = Math.Max(last ?? 0, record.UpdateId);
                    }
                    else
                    {
                        LogSkipped(logger, problem);
                        last = Math.Max(last ?? 0, element.TryGetProperty("update_id", out var id) && id.TryGetInt64(out var n) ? n : 0);
                    }
                }

                if (last is { } newest)
                {
                    if (records.Count > 0)
                    {
                        var inserted = await inbox.InsertAsync(records, leadership);
                        foreach (var stored in records)
                        {
                            metrics.UpdateReceived(stored.Kind, !inserted.Contains(stored.UpdateId));
                        }
                    }

                    offset = newest + 1;
                    await WriteOffsetAsync(offset.Value, leadership);
                }

                failures = 0;
            }
            catch (Exception exception) when (exception is HttpRequestException or JsonException or NpgsqlException or TimeoutException
                                                  or TaskCanceledException && !leadership.IsCancellationRequested)
            {
                failures++;
                var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, failures)));
                LogPollFailed(logger, redactor.Redact(exception.Message), delay.TotalSeconds);
                await Task.Delay(delay, time, leadership);
            }
        }
    }

    private async Task<long?> ReadOffsetAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT value FROM bot_state WHERE key = $1");
        command.Parameters.Add(Sql.Arg<string>(OffsetKey));
        return await command.ExecuteScalarAsync(cancellationToken) is string value ? long.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private async Task WriteOffsetAsync(long offset, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO bot_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()");
        command.Parameters.Add(Sql.Arg<string>(OffsetKey));
        command.Parameters.Add(Sql.Arg<string>(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "getUpdates failed ({Error}); retrying in {Seconds} s")]
    private static partial void LogPollFailed(ILogger logger, string error, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an update from getUpdates: {Problem}")]
    private static partial void LogSkipped(ILogger logger, string problem);
}

internal sealed record GetUpdates(
    [property: JsonPropertyName("offset")] long? Offset,
    [property: JsonPropertyName("limit")] int Limit,
    [property: JsonPropertyName("timeout")] int Timeout,
    [property: JsonPropertyName("allowed_updates")] string[] AllowedUpdates);

[JsonSerializable(typeof(GetUpdates))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class PollerJson : JsonSerializerContext;
