using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Admin;
using Bot.Features.MiniApp;
using Bot.Outbox;
using Bot.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot.Requests;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>
/// Broadcasts in the admin Mini App, for the bot's admins: the list with progress, the audience count, a new text
/// broadcast (now, as a draft, or at a time), and the same operations as the commands and the admin API (send a draft,
/// preview to me, pause, resume, edit, withdraw, cancel), by the admin API's own handlers.
/// </summary>
/// <remarks>
/// A broadcast copies a message. The app's text is first sent to the admin's own chat with the bot, through the outbox
/// (so Telegram's limits hold), and that message is what the broadcast copies: the admin sees exactly what goes out.
/// </remarks>
public sealed partial class BroadcastsMiniApp : IMiniAppRoutes
{
    public const int MaxTextLength = 4096;

    /// <summary>How long creating waits for the admin's copy to be sent before it answers 503 (nothing is created then).</summary>
    public static readonly TimeSpan SendWait = TimeSpan.FromSeconds(20);

    public void Map(RouteGroupBuilder chat, RouteGroupBuilder botAdmin)
    {
        botAdmin.MapGet("/broadcasts", ListAsync);
        botAdmin.MapPost("/broadcasts", CreateAsync);
        botAdmin.MapPost("/broadcasts/audience-count", BroadcastAdminApi.CountAudienceAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/send", BroadcastAdminApi.SendAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/pause", BroadcastAdminApi.PauseAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/resume", BroadcastAdminApi.ResumeAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/cancel", BroadcastAdminApi.CancelAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/edit", BroadcastAdminApi.EditAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/withdraw", BroadcastAdminApi.WithdrawAsync);
        botAdmin.MapPost("/broadcasts/{id:long}/preview", (long id, ClaimsPrincipal user, NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, CancellationToken ct) =>
            BroadcastAdminApi.PreviewToAsync(id, user.UserId(), user.Language(), dataSource, texts, nudge, ct));
    }

    private static async Task<Ok<BroadcastList>> ListAsync(ReadReplica reads, CancellationToken cancellationToken) =>
        TypedResults.Ok(new BroadcastList(await reads.ReadAsync((db, ct) => BroadcastStore.ListAsync(db, 20, ct), cancellationToken)));

    private static async Task<Results<Accepted<BroadcastView>, ProblemHttpResult>> CreateAsync(
        HttpContext http, ClaimsPrincipal user, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts, OutboxNudge nudge,
        IOptions<BroadcastOptions> options, TimeProvider time, ILogger<BroadcastsMiniApp> logger, CancellationToken cancellationToken)
    {
        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastsMiniAppJson.Default.MiniAppBroadcastRequest, cancellationToken);
        if (request is null)
        {
            return unreadable!;
        }

        if (string.IsNullOrWhiteSpace(request.Text) || request.Text.Length > MaxTextLength)
        {
            return AdminBody.Invalid($"text must be 1 to {MaxTextLength} characters, not only spaces", "Invalid broadcast");
        }

        if (request.Audience?.Problem() is { } audience)
        {
            return AdminBody.Invalid(audience, "Invalid broadcast");
        }

        if (request.ScheduledAt is { } at && (request.Draft || at <= time.GetUtcNow()))
        {
            return AdminBody.Invalid(request.Draft ? "a draft has no scheduledAt (send it later)" : "scheduledAt must be in the future", "Invalid broadcast");
        }

        var admin = user.UserId();
        if (await SendToAdminAsync(dataSource, nudge, admin, request.Text, cancellationToken) is not { } messageId)
        {
            LogNotSent(logger, admin);
            return TypedResults.Problem("the text could not be sent to your chat with the bot (open it and press Start), so there is nothing to copy yet",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not sent");
        }

        var create = new CreateBroadcastRequest(admin, messageId)
        {
            IsText = true,
            Audience = request.Audience,
            ScheduledAt = request.ScheduledAt,
            Draft = request.Draft,
        };
        var (problem, view) = await BroadcastAdminApi.CreateForAsync(
            create, null, "miniapp:" + admin.ToString(CultureInfo.InvariantCulture), http.Response, dataSource, flags, texts, nudge, options.Value, time, cancellationToken);
        return view is null ? problem! : TypedResults.Accepted($"/app/api/broadcasts/{view.Id}", view);
    }

    /// <summary>Sends the text to the admin's chat through the outbox and waits for the message's id; null when it was not sent in time.</summary>
    private static async Task<int?> SendToAdminAsync(NpgsqlDataSource dataSource, OutboxNudge nudge, long admin, string text, CancellationToken cancellationToken)
    {
        long row;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            row = await new OutboxWriter(connection, transaction, null).EnqueueAsync(new SendMessageRequest { ChatId = admin, Text = text }, admin, cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        nudge.Nudge();
        var db = Db.Of(dataSource);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(SendWait);
        try
        {
            while (true)
            {
                var sent = await db.FirstAsync("SELECT state, result FROM outbox WHERE id = $1", reader => new Tuple<string, string?>(reader.GetString(0), reader.StringOrNull(1)),
                    deadline.Token, Arg(row));
                switch (sent?.Item1)
                {
                    case "sent" when sent.Item2 is { } result:
                        using (var message = JsonDocument.Parse(result))
                        {
                            return message.RootElement.TryGetProperty("message_id", out var id) && id.TryGetInt32(out var value) ? value : null;
                        }

                    case "dead" or null:
                        return null;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(150), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mini App broadcast of admin {AdminId} not created: its text could not be sent to the admin's chat in time")]
    private static partial void LogNotSent(ILogger logger, long adminId);
}

/// <summary>POST /app/api/broadcasts: a text to every subscriber the audience picks, now, as a draft, or at a time.</summary>
public sealed record MiniAppBroadcastRequest(string? Text, Audience? Audience = null, bool Draft = false, DateTimeOffset? ScheduledAt = null);

/// <summary>GET /app/api/broadcasts.</summary>
public sealed record BroadcastList(List<BroadcastView> Broadcasts);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MiniAppBroadcastRequest))]
[JsonSerializable(typeof(BroadcastList))]
internal sealed partial class BroadcastsMiniAppJson : JsonSerializerContext;
