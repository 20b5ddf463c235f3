using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Bot.Telegram;
using Bot.Telemetry;
using Telegram.Bot.Types;

namespace Bot.Ingest;

/// <summary>
/// POST /telegram/webhook. Answers only after the update is durable: 200 stored or already stored,
/// 400 malformed, 401 wrong secret, 413 too large, 415 not JSON, 503 when the database cannot take it
/// (Telegram then retries, and the inbox key makes the retry harmless).
/// </summary>
public sealed partial class WebhookEndpoint(
    InboxWriter writer, WebhookSecret secret, IngestBudget budget, BotMetrics metrics, IOptions<IngestOptions> options, ILogger<WebhookEndpoint> logger)
{
    public const string SecretHeader = "X-Telegram-Bot-Api-Secret-Token";

    private readonly IngestOptions options = options.Value;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;

        if (!secret.Matches(request.Headers[SecretHeader].ToString()))
        {
            await RejectAsync(response, StatusCodes.Status401Unauthorized, "wrong or missing secret token");
            return;
        }

        if (request.ContentLength > options.MaxBodyBytes)
        {
            await RejectAsync(response, StatusCodes.Status413PayloadTooLarge, "body too large");
            return;
        }

        if (!IsJson(request.ContentType))
        {
            await RejectAsync(response, StatusCodes.Status415UnsupportedMediaType, "expected application/json");
            return;
        }

        var reserved = request.ContentLength ?? options.MaxBodyBytes;
        if (!budget.TryReserve(reserved))
        {
            await UnavailableAsync(response);
            return;
        }

        try
        {
            await ReadAndStoreAsync(context, request, response);
        }
        finally
        {
            budget.Release(reserved);
        }
    }

    private async Task ReadAndStoreAsync(HttpContext context, HttpRequest request, HttpResponse response)
    {
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request.BodyReader, options.MaxBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException exception)
        {
            // A client's fault (a body arriving slower than Kestrel's minimum rate, a bad chunk): answered with
            // Kestrel's status, never logged as an application error that any client could flood the logs with.
            LogRejected(logger, exception.Message);
            await RejectAsync(response, exception.StatusCode, "bad request body");
            return;
        }

        if (body is null)
        {
            await RejectAsync(response, StatusCodes.Status413PayloadTooLarge, "body too large");
            return;
        }

        if (!UpdateParser.TryParse(body, out var record, out var problem))
        {
            LogRejected(logger, problem);
            await RejectAsync(response, StatusCodes.Status400BadRequest, problem);
            return;
        }

        // The row carries this span's traceparent: handling and sending continue the same trace.
        using var ingest = BotActivities.StartIngest(record.UpdateId, record.Kind);
        record = record with { TraceContext = BotActivities.CurrentTraceParent(record.TraceContext) };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.CommitTimeoutSeconds * 2));
        try
        {
            var result = await writer.WriteAsync(record, timeout.Token);
            metrics.UpdateReceived(record.Kind, result == InboxWriteResult.Duplicate);
            ingest?.SetTag("bot.duplicate", result == InboxWriteResult.Duplicate);
            response.StatusCode = StatusCodes.Status200OK;
        }
        catch (InboxUnavailableException exception)
        {
            ingest?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, exception.Message);
            await UnavailableAsync(response);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            ingest?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "commit timed out");
            await UnavailableAsync(response);
        }
    }

    /// <summary>The whole body, or null when it is larger than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (media.Charset.Length == 0 || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static Task UnavailableAsync(HttpResponse response)
    {
        response.Headers.RetryAfter = "1";
        return RejectAsync(response, StatusCodes.Status503ServiceUnavailable, "storage unavailable, retry");
    }

    private static Task RejectAsync(HttpResponse response, int status, string reason)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook request rejected: {Problem}")]
    private static partial void LogRejected(ILogger logger, string problem);
}
