using Bot.Admin;
using Bot.Outbox;
using Bot.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Features.Broadcasts;

/// <summary>A broadcast to start: the message to copy, and optionally a chat where its progress is shown.</summary>
/// <param name="FromChatId">The chat that holds the message.</param>
/// <param name="MessageId">The message to copy to every active subscriber.</param>
/// <param name="StatusChatId">A chat the bot may write to, where one status message shows the progress.</param>
/// <param name="AllowConcurrent">Start even while another broadcast is running (otherwise that is a 409).</param>
public sealed record CreateBroadcastRequest(long FromChatId, int MessageId, long? StatusChatId = null, bool AllowConcurrent = false);

/// <summary>
/// The broadcasts' admin routes: start one (write token; Idempotency-Key honoured for 24 h; 409 while another runs
/// unless allowConcurrent), list, read and cancel them.
/// </summary>
public sealed class BroadcastAdminApi : IAdminRoutes
{
    public void Map(RouteGroupBuilder read, RouteGroupBuilder write)
    {
        write.MapPost("/broadcasts", CreateAsync).WithName("CreateBroadcast")
            .WithSummary("Start a broadcast of a message to every active subscriber (Idempotency-Key honoured for 24 h)");
        read.MapGet("/broadcasts", ListAsync).WithName("ListBroadcasts").WithSummary("The most recent broadcasts, newest first");
        read.MapGet("/broadcasts/{id:long}", GetAsync).WithName("GetBroadcast").WithSummary("A broadcast's state and counts");
        write.MapPost("/broadcasts/{id:long}/cancel", CancelAsync).WithName("CancelBroadcast").WithSummary("Stop a running broadcast; what was sent stays sent");
    }

    private static async Task<Results<Accepted<BroadcastView>, ProblemHttpResult>> CreateAsync(
        CreateBroadcastRequest request, HttpContext http, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts, OutboxNudge nudge,
        CancellationToken cancellationToken)
    {
        if (request.FromChatId == 0 || request.MessageId <= 0 || request.StatusChatId == 0)
        {
            return TypedResults.Problem("fromChatId must be a chat id and messageId a positive message id; statusChatId, when given, a chat id",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid broadcast");
        }

        var key = http.Request.Headers[IdempotencyKeys.Header] is { Count: > 0 } values ? values.ToString() : null;
        if (key is not null && !IdempotencyKeys.IsValid(key))
        {
            return TypedResults.Problem($"{IdempotencyKeys.Header} must be 1 to {IdempotencyKeys.MaxLength} visible ASCII characters",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid idempotency key");
        }

        if (!flags.IsEnabledForAll(BroadcastsFeature.FeatureName))
        {
            return TypedResults.Problem("the Broadcasts feature flag is off", statusCode: StatusCodes.Status409Conflict, title: "Broadcasts are switched off");
        }

        var fingerprint = IdempotencyKeys.Fingerprint(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One creation at a time: the running check and the key lookup then see every earlier creation committed.
        var db = Db.In(connection, transaction);
        await db.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('bot.admin.create-broadcast'))", cancellationToken);

        if (key is not null && await IdempotencyKeys.FindAsync(connection, transaction, key, fingerprint, cancellationToken) is { } earlier)
        {
            await transaction.RollbackAsync(cancellationToken);
            if (!earlier.SameRequest)
            {
                return TypedResults.Problem($"this {IdempotencyKeys.Header} was used for a different request in the last 24 hours",
                    statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency key reused");
            }

            http.Response.Headers["Idempotent-Replayed"] = "true";
            var first = await BroadcastStore.GetAsync(Db.Of(dataSource), earlier.BroadcastId, cancellationToken);
            return TypedResults.Accepted($"/admin/broadcasts/{earlier.BroadcastId}", first!);
        }

        if (!request.AllowConcurrent && await BroadcastStore.RunningAsync(db, cancellationToken) is { } running)
        {
            return TypedResults.Problem($"broadcast {running} is still running; cancel it, wait for it, or send \"allowConcurrent\": true",
                statusCode: StatusCodes.Status409Conflict, title: "A broadcast is running");
        }

        var caller = $"api:{http.User.FindFirst(AdminAuth.TokenClaim)?.Value}";
        var id = await BroadcastStore.CreateAsync(
            db, request.FromChatId, request.MessageId, null, request.StatusChatId, Texts.English, cancellationToken, caller);
        if (request.StatusChatId is { } statusChat)
        {
            var outbox = new OutboxWriter(connection, transaction, null);
            var status = await outbox.EnqueueAsync(new SendMessageRequest { ChatId = statusChat, Text = BroadcastStatus.Starting(texts, Texts.English, id) },
                statusChat, cancellationToken: cancellationToken);
            await BroadcastStore.SetStatusOutboxAsync(db, id, status, cancellationToken);
        }

        if (key is not null)
        {
            await IdempotencyKeys.StoreAsync(connection, transaction, key, fingerprint, id, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        var view = await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken);
        return TypedResults.Accepted($"/admin/broadcasts/{id}", view!);
    }

    private static async Task<Ok<List<BroadcastView>>> ListAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken, int limit = 20) =>
        TypedResults.Ok(await BroadcastStore.ListAsync(Db.Of(dataSource), Math.Clamp(limit, 1, 200), cancellationToken));

    private static async Task<Results<Ok<BroadcastView>, NotFound>> GetAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();

    private static async Task<Results<Ok<BroadcastView>, NotFound, ProblemHttpResult>> CancelAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var cancelled = await BroadcastStore.CancelAsync(Db.Of(dataSource), id, cancellationToken);
        var view = await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken);
        return view switch
        {
            null => TypedResults.NotFound(),
            _ when cancelled is null => TypedResults.Problem($"broadcast {id} is already {view.State}", statusCode: StatusCodes.Status409Conflict, title: "Not running"),
            _ => TypedResults.Ok(view),
        };
    }
}
