using System.Globalization;
using Bot.Admin;
using Bot.Outbox;
using Bot.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Features.Broadcasts;

/// <summary>
/// The broadcasts' admin routes, at parity with /broadcast in Telegram: create one (at once, as a draft, scheduled
/// once or recurring; a message, an album or language variants; an audience, quiet hours, paid with a budget;
/// Idempotency-Key honoured for 24 h; 409 while another goes out unless allowConcurrent), count an audience, send a
/// draft, pause, resume, edit or withdraw what was sent, preview, list the delivery records; and the saved audience
/// lists. Bodies are read with <see cref="AdminBody"/>, so every bad field is a 400 that names it.
/// </summary>
public sealed class BroadcastAdminApi : IAdminRoutes
{
    private const int MaxEditLength = 4096;
    private const int MaxPage = 1000;
    private const int DefaultPage = 100;

    public void Map(RouteGroupBuilder read, RouteGroupBuilder write)
    {
        write.MapPost("/broadcasts", CreateAsync).WithName("CreateBroadcast").Accepts<CreateBroadcastRequest>("application/json")
            .WithSummary("Create a broadcast: start it now, keep it as a draft, or schedule it (once or daily/weekly); a message, an album or language variants, an audience, quiet hours, paid with a budget (Idempotency-Key honoured for 24 h)");
        read.MapGet("/broadcasts", ListAsync).WithName("ListBroadcasts").WithSummary("The most recent broadcasts, newest first");
        read.MapGet("/broadcasts/{id:long}", GetAsync).WithName("GetBroadcast").WithSummary("A broadcast's state and counts");
        write.MapPost("/broadcasts/{id:long}/cancel", CancelAsync).WithName("CancelBroadcast").WithSummary("Stop a broadcast that has not ended (a draft, scheduled, going out or paused); what was sent stays sent");

        // Counting changes nothing: the read scope may ask, although the audience travels in a POST body.
        read.MapPost("/broadcasts/audience-count", CountAudienceAsync).WithName("CountBroadcastAudience").Accepts<AudienceCountRequest>("application/json")
            .WithSummary("How many active subscribers an audience reaches now (read scope: it changes nothing)");
        write.MapPost("/broadcasts/{id:long}/send", SendAsync).WithName("SendBroadcast").WithSummary("Send a draft now (draft to sending)");
        write.MapPost("/broadcasts/{id:long}/pause", PauseAsync).WithName("PauseBroadcast")
            .WithSummary("Pause a broadcast that is going out: its copies not yet taken leave the queue until it is resumed");
        write.MapPost("/broadcasts/{id:long}/resume", ResumeAsync).WithName("ResumeBroadcast").Accepts<ResumeBroadcastRequest>("application/json")
            .WithSummary("Resume a paused broadcast (optional body {budget}: a paid broadcast paused at its budget resumes with a larger one)");
        write.MapPost("/broadcasts/{id:long}/edit", EditAsync).WithName("EditBroadcast").Accepts<EditBroadcastRequest>("application/json")
            .WithSummary("Edit every delivered copy of an ended text broadcast to a new text (a job; its progress is in the broadcast)");
        write.MapPost("/broadcasts/{id:long}/withdraw", WithdrawAsync).WithName("WithdrawBroadcast")
            .WithSummary("Delete every delivered copy of an ended broadcast (those sent within Telegram's 48 hours; a job)");
        write.MapPost("/broadcasts/{id:long}/preview", PreviewAsync).WithName("PreviewBroadcast").Accepts<PreviewBroadcastRequest>("application/json")
            .WithSummary("Send a copy of every variant of a broadcast to one chat, as its recipients would get it");
        read.MapGet("/broadcasts/{id:long}/deliveries", DeliveriesAsync).WithName("ListBroadcastDeliveries")
            .WithSummary("A broadcast's delivery records in user id order: outcome (queued, sent, failed, blocked, cancelled), after (a user id) and limit (1 to 1000, default 100)");

        write.MapPut("/audience-lists/{name}", SaveListAsync).WithName("SaveAudienceList").Accepts<AudienceListRequest>("application/json")
            .WithMetadata(new BodySizeLimit(AudienceLists.MaxBodyBytes))
            .WithSummary("Save an audience list: replaces its user ids (1 to 100000; body up to 2 MiB); a broadcast's audience names it with {\"list\": name}");
        read.MapGet("/audience-lists", ListListsAsync).WithName("ListAudienceLists").WithSummary("The saved audience lists: names, sizes, when saved");
        read.MapGet("/audience-lists/{name}", GetListAsync).WithName("GetAudienceList")
            .WithSummary("A saved audience list: its size and a page of its user ids (after a user id; limit 1 to 1000, default 100)");
        write.MapDelete("/audience-lists/{name}", DeleteListAsync).WithName("DeleteAudienceList")
            .WithSummary("Delete a saved audience list (409 while a broadcast that has not ended uses it)");
    }

    private static async Task<Results<Accepted<BroadcastView>, ProblemHttpResult>> CreateAsync(
        HttpContext http, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts, OutboxNudge nudge, IOptions<BroadcastOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastApiJson.Default.CreateBroadcastRequest, cancellationToken);
        if (request is null)
        {
            return unreadable!;
        }

        var key = http.Request.Headers[IdempotencyKeys.Header] is { Count: > 0 } values ? values.ToString() : null;
        if (key is not null && !IdempotencyKeys.IsValid(key))
        {
            return TypedResults.Problem($"{IdempotencyKeys.Header} must be 1 to {IdempotencyKeys.MaxLength} visible ASCII characters",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid idempotency key");
        }

        var caller = $"api:{http.User.FindFirst(AdminAuth.TokenClaim)?.Value}";
        var (problem, view) = await CreateForAsync(request, key, caller, http.Response, dataSource, flags, texts, nudge, options.Value, time, cancellationToken);
        return view is null ? problem! : TypedResults.Accepted($"/admin/broadcasts/{view.Id}", view);
    }

    /// <summary>
    /// Creates a broadcast as <paramref name="caller"/> asked (the admin API's token, the Mini App's user): checked field by
    /// field, one creation at a time, under an idempotency key when one is given. The problem, or the broadcast created (or
    /// created before under the same key).
    /// </summary>
    internal static async Task<(ProblemHttpResult? Problem, BroadcastView? View)> CreateForAsync(
        CreateBroadcastRequest request, string? key, string caller, HttpResponse response, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts,
        OutboxNudge nudge, BroadcastOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var (problems, broadcast) = BroadcastRequestCheck.Check(request, options, time.GetUtcNow());
        if (broadcast is null)
        {
            return (AdminBody.Invalid(string.Join("; ", problems), "Invalid broadcast"), null);
        }

        if (!flags.IsEnabledForAll(BroadcastsFeature.FeatureName))
        {
            return (AdminBody.Conflict("the Broadcasts feature flag is off", "Broadcasts are switched off"), null);
        }

        if (request.AllowPaid && !options.AllowPaid)
        {
            return (AdminBody.Conflict("paid broadcasts are switched off (Broadcasts:AllowPaid)", "Paid broadcasts are switched off"), null);
        }

        if (await ProblemOfNamesAsync(Db.Of(dataSource), broadcast, cancellationToken) is { } names)
        {
            return (AdminBody.Invalid(names, "Invalid broadcast"), null);
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
                return (TypedResults.Problem($"this {IdempotencyKeys.Header} was used for a different request in the last 24 hours",
                    statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency key reused"), null);
            }

            response.Headers["Idempotent-Replayed"] = "true";
            return (null, await BroadcastStore.GetAsync(Db.Of(dataSource), earlier.BroadcastId, cancellationToken));
        }

        if (broadcast.StartsNow && !request.AllowConcurrent && await BroadcastStore.RunningAsync(db, cancellationToken) is { } running)
        {
            return (AdminBody.Conflict($"broadcast {running} is still running; cancel it, wait for it, or send \"allowConcurrent\": true", "A broadcast is running"), null);
        }

        var id = await BroadcastStore.CreateAsync(db,
            new NewBroadcast(broadcast.Variants, broadcast.Audience, null, request.StatusChatId, Texts.English, caller)
            {
                Start = broadcast.StartsNow,
                QuietStart = broadcast.QuietStart,
                QuietEnd = broadcast.QuietEnd,
                AllowPaid = broadcast.Budget is not null,
                Budget = broadcast.Budget,
                TimeZone = broadcast.TimeZone,
            },
            cancellationToken);
        // Scheduled here rather than by CreateAsync, so that a time the database's clock finds past is a 400, not a draft.
        if (broadcast.Plan is { } plan && await BroadcastStore.ScheduleAsync(db, id, plan, cancellationToken) is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            return (AdminBody.Invalid("scheduledAt must be in the future (by the database's clock)", "Invalid broadcast"), null);
        }

        // The status message: now for a broadcast that starts now or once at its time; a draft gets it when sent, and
        // each run of a recurring one its own (the runner's).
        if (request.StatusChatId is { } statusChat && !broadcast.Draft && broadcast.Plan?.Recurrence is null)
        {
            await QueueStatusAsync(connection, transaction, texts, id, statusChat, Texts.English, cancellationToken);
        }

        if (key is not null)
        {
            await IdempotencyKeys.StoreAsync(connection, transaction, key, fingerprint, id, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        return (null, await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken));
    }

    /// <summary>What the database says about the names the request gives: the time zones, the saved list.</summary>
    private static async Task<string?> ProblemOfNamesAsync(Db db, CheckedBroadcast broadcast, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (broadcast.TimeZone is { } zone && !await BroadcastStore.IsTimeZoneAsync(db, zone, cancellationToken))
        {
            problems.Add($"timeZone \"{zone}\" is not a time zone the database knows (an IANA name such as Europe/Berlin)");
        }

        if (broadcast.Audience.List is { } list && !await AudienceLists.ExistsAsync(db, list, cancellationToken))
        {
            problems.Add($"audience.list \"{list}\" is not a saved audience list (PUT /admin/audience-lists/{list} first)");
        }

        return problems.Count > 0 ? string.Join("; ", problems) : null;
    }

    private static async Task QueueStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Texts texts, long id, long chat, string language, CancellationToken cancellationToken)
    {
        var outbox = new OutboxWriter(connection, transaction, null);
        var status = await outbox.EnqueueAsync(new SendMessageRequest { ChatId = chat, Text = BroadcastStatus.Starting(texts, language, id) },
            chat, cancellationToken: cancellationToken);
        await BroadcastStore.SetStatusOutboxAsync(Db.In(connection, transaction), id, status, cancellationToken);
    }

    internal static async Task<Ok<List<BroadcastView>>> ListAsync(ReadReplica reads, CancellationToken cancellationToken, int limit = 20) =>
        TypedResults.Ok(await reads.ReadAsync((db, ct) => BroadcastStore.ListAsync(db, Math.Clamp(limit, 1, 200), ct), cancellationToken));

    private static async Task<Results<Ok<BroadcastView>, NotFound>> GetAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();

    internal static async Task<Results<Ok<BroadcastView>, NotFound, ProblemHttpResult>> CancelAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var cancelled = await BroadcastStore.CancelAsync(Db.Of(dataSource), id, cancellationToken);
        var view = await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken);
        return view switch
        {
            null => TypedResults.NotFound(),
            _ when cancelled is null => AdminBody.Conflict($"broadcast {id} is already {view.State}", "Not running"),
            _ => TypedResults.Ok(view),
        };
    }

    internal static async Task<Results<Ok<AudienceCountView>, ProblemHttpResult>> CountAudienceAsync(
        HttpContext http, ReadReplica reads, CancellationToken cancellationToken)
    {
        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastApiJson.Default.AudienceCountRequest, cancellationToken);
        if (request is null)
        {
            return unreadable!;
        }

        if (request.Audience is not { } audience)
        {
            return AdminBody.Invalid("audience is required ({} is every active subscriber)", "Invalid audience");
        }

        return audience.Problem() is { } problem
            ? AdminBody.Invalid(problem, "Invalid audience")
            : TypedResults.Ok(new AudienceCountView(await reads.ReadAsync((db, ct) => Audience.CountAsync(db, audience, ct), cancellationToken)));
    }

    internal static async Task<Results<Ok<BroadcastView>, NotFound, ProblemHttpResult>> SendAsync(
        long id, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts, OutboxNudge nudge, CancellationToken cancellationToken)
    {
        if (await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        if (!flags.IsEnabledForAll(BroadcastsFeature.FeatureName))
        {
            return AdminBody.Conflict("the Broadcasts feature flag is off", "Broadcasts are switched off");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        if (!await BroadcastStore.StartAsync(db, id, cancellationToken))
        {
            return AdminBody.Conflict($"broadcast {id} is {view.State}, not a draft", "Not a draft");
        }

        if (await BroadcastStore.StatusChatToShowAsync(db, id, cancellationToken) is { } status)
        {
            await QueueStatusAsync(connection, transaction, texts, id, status.Item1, status.Item2, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        return TypedResults.Ok((await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken))!);
    }

    internal static async Task<Results<Ok<BroadcastView>, NotFound, ProblemHttpResult>> PauseAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await BroadcastDeliveries.PauseAsync(Db.In(connection, transaction), id, "admin", cancellationToken))
        {
            return AdminBody.Conflict(view.State == BroadcastState.Running
                ? $"broadcast {id} is a broadcast of the previous release; it can be cancelled, not paused"
                : $"broadcast {id} is {view.State}; only a broadcast that is sending can be paused", "Not sending");
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok((await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken))!);
    }

    internal static async Task<Results<Ok<BroadcastView>, NotFound, ProblemHttpResult>> ResumeAsync(
        long id, HttpContext http, NpgsqlDataSource dataSource, IOptions<BroadcastOptions> options, OutboxNudge nudge, CancellationToken cancellationToken)
    {
        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastApiJson.Default.ResumeBroadcastRequest, cancellationToken, optional: true);
        if (unreadable is not null)
        {
            return unreadable;
        }

        if (request?.Budget is { } budget && (budget < 1 || budget > options.Value.MaxPaidBudget))
        {
            return AdminBody.Invalid($"budget must be 1 to {options.Value.MaxPaidBudget} recipients", "Invalid budget");
        }

        if (await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        if (request?.Budget is not null && !view.AllowPaid)
        {
            return AdminBody.Invalid($"budget applies to a paid broadcast; broadcast {id} is not paid", "Invalid budget");
        }

        if (!await BroadcastDeliveries.ResumeAsync(Db.Of(dataSource), id, request?.Budget, cancellationToken))
        {
            return AdminBody.Conflict(view is { State: BroadcastState.Paused, PausedReason: "budget" }
                ? $"broadcast {id} is paused at its budget of {view.Budget}; resume it with a larger budget"
                : $"broadcast {id} is {view.State}, not paused", "Not paused");
        }

        nudge.Nudge();
        return TypedResults.Ok((await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken))!);
    }

    internal static async Task<Results<Accepted<BroadcastView>, NotFound, ProblemHttpResult>> EditAsync(
        long id, HttpContext http, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastApiJson.Default.EditBroadcastRequest, cancellationToken);
        if (request is null)
        {
            return unreadable!;
        }

        if (string.IsNullOrWhiteSpace(request.Text) || request.Text.Length > MaxEditLength)
        {
            return AdminBody.Invalid($"text must be 1 to {MaxEditLength} characters, not only spaces", "Invalid text");
        }

        if (await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        var variants = await BroadcastDeliveries.VariantsAsync(Db.Of(dataSource), id, cancellationToken);
        if (variants.Count == 0 || variants.Any(v => !v.IsText))
        {
            return AdminBody.Conflict($"broadcast {id} is not a text broadcast (every variant isText); only text messages can be edited", "Not text");
        }

        return await StartJobAsync(dataSource, view, "edit", request.Text, cancellationToken);
    }

    internal static async Task<Results<Accepted<BroadcastView>, NotFound, ProblemHttpResult>> WithdrawAsync(
        long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is { } view
            ? await StartJobAsync(dataSource, view, "withdraw", null, cancellationToken)
            : TypedResults.NotFound();

    private static async Task<Results<Accepted<BroadcastView>, NotFound, ProblemHttpResult>> StartJobAsync(
        NpgsqlDataSource dataSource, BroadcastView view, string job, string? text, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        // A broadcast of the previous release has no variants and no delivery records to take back.
        var ofThisRelease = (await BroadcastDeliveries.VariantsAsync(db, view.Id, cancellationToken)).Count > 0;
        if (!ofThisRelease || !await BroadcastDeliveries.StartJobAsync(db, view.Id, job, text, cancellationToken))
        {
            return AdminBody.Conflict(view.State switch
            {
                _ when !ofThisRelease => $"broadcast {view.Id} is a broadcast of the previous release, without delivery records",
                BroadcastState.Done or BroadcastState.Cancelled => $"broadcast {view.Id} has its {view.Job} job running; wait for it to finish",
                _ => $"broadcast {view.Id} is {view.State}; only an ended broadcast (done or cancelled) can be taken back",
            }, "Not ended");
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted($"/admin/broadcasts/{view.Id}", (await BroadcastStore.GetAsync(Db.Of(dataSource), view.Id, cancellationToken))!);
    }

    private static async Task<Results<Accepted<PreviewView>, NotFound, ProblemHttpResult>> PreviewAsync(
        long id, HttpContext http, NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, CancellationToken cancellationToken)
    {
        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastApiJson.Default.PreviewBroadcastRequest, cancellationToken);
        if (request is null)
        {
            return unreadable!;
        }

        if (request.ChatId == 0)
        {
            return AdminBody.Invalid("chatId must be a chat id", "Invalid preview");
        }

        return await PreviewToAsync(id, request.ChatId, Texts.English, dataSource, texts, nudge, cancellationToken);
    }

    /// <summary>Queues a preview of every variant of the broadcast to <paramref name="chat"/>, labelled in <paramref name="language"/>.</summary>
    internal static async Task<Results<Accepted<PreviewView>, NotFound, ProblemHttpResult>> PreviewToAsync(
        long id, long chat, string language, NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, CancellationToken cancellationToken)
    {
        if (await BroadcastStore.GetAsync(Db.Of(dataSource), id, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        var variants = await BroadcastDeliveries.VariantsAsync(db, id, cancellationToken);
        if (variants.Count == 0)
        {
            // A broadcast of the previous release: its one message.
            variants = [new Variant("", view.FromChatId, [view.MessageId], false)];
        }

        var outbox = new OutboxWriter(connection, transaction, null);
        BroadcastDeliveries.QueuePreview(outbox, texts, language, variants, chat);

        await outbox.FlushAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        return TypedResults.Accepted($"/admin/broadcasts/{id}", new PreviewView(id, chat, outbox.Queued));
    }

    private static async Task<Results<Ok<List<DeliveryView>>, NotFound, ProblemHttpResult>> DeliveriesAsync(
        long id, ReadReplica reads, CancellationToken cancellationToken, string? outcome = null, string? after = null, string? limit = null)
    {
        var problems = new List<string>();
        if (outcome is not (null or "queued" or "sent" or "failed" or "blocked" or "cancelled"))
        {
            problems.Add("outcome must be queued, sent, failed, blocked or cancelled");
        }

        var (from, page) = PageOf(after, limit, problems);
        if (problems.Count > 0)
        {
            return AdminBody.Invalid(string.Join("; ", problems), "Invalid filter");
        }

        // One read, so that the broadcast and its deliveries come from the same server.
        var deliveries = await reads.ReadAsync(
            async (db, ct) => await BroadcastStore.GetAsync(db, id, ct) is null ? null : await BroadcastDeliveries.ListAsync(db, id, outcome, from, page, ct),
            cancellationToken);
        return deliveries is null ? TypedResults.NotFound() : TypedResults.Ok(deliveries);
    }

    /// <summary>after (a user id, 0 by default) and limit (1 to 1000, 100 by default) of a query string, or problems naming them.</summary>
    private static (long After, int Limit) PageOf(string? after, string? limit, List<string> problems)
    {
        long from = 0;
        if (after is not null && (!long.TryParse(after, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out from) || from < 0))
        {
            problems.Add("after must be a user id (0 or more)");
        }

        var page = DefaultPage;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out page) || page is < 1 or > MaxPage))
        {
            problems.Add($"limit must be 1 to {MaxPage}");
        }

        return (from, page);
    }

    private static async Task<Results<Ok<AudienceListSummary>, ProblemHttpResult>> SaveListAsync(
        string name, HttpContext http, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (!AudienceLists.IsName(name))
        {
            return AdminBody.Invalid("name must be 1 to 64 letters, digits, '-' or '_'", "Invalid list name");
        }

        var (request, unreadable) = await AdminBody.ReadAsync(http.Request, BroadcastApiJson.Default.AudienceListRequest, cancellationToken);
        if (request is null)
        {
            return unreadable!;
        }

        if (request.UserIds is not { Length: > 0 and <= AudienceLists.MaxUserIds } ids)
        {
            return AdminBody.Invalid($"userIds must hold 1 to {AudienceLists.MaxUserIds} user ids", "Invalid list");
        }

        if (Array.FindIndex(ids, u => u <= 0) is var bad and >= 0)
        {
            return AdminBody.Invalid($"userIds[{bad}] must be a positive user id", "Invalid list");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        await AudienceLists.ReplaceAsync(db, name, ids, cancellationToken);
        var saved = (await AudienceLists.GetAsync(db, name, 0, 0, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(new AudienceListSummary(saved.Name, saved.Count, saved.SavedAt));
    }

    private static async Task<Ok<List<AudienceListSummary>>> ListListsAsync(ReadReplica reads, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reads.ReadAsync(AudienceLists.ListAsync, cancellationToken));

    private static async Task<Results<Ok<AudienceListView>, NotFound, ProblemHttpResult>> GetListAsync(
        string name, ReadReplica reads, CancellationToken cancellationToken, string? after = null, string? limit = null)
    {
        var problems = new List<string>();
        if (!AudienceLists.IsName(name))
        {
            problems.Add("name must be 1 to 64 letters, digits, '-' or '_'");
        }

        var (from, page) = PageOf(after, limit, problems);
        if (problems.Count > 0)
        {
            return AdminBody.Invalid(string.Join("; ", problems), "Invalid request");
        }

        return await reads.ReadAsync((db, ct) => AudienceLists.GetAsync(db, name, from, page, ct), cancellationToken) is { } list
            ? TypedResults.Ok(list)
            : TypedResults.NotFound();
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteListAsync(string name, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (!AudienceLists.IsName(name))
        {
            return AdminBody.Invalid("name must be 1 to 64 letters, digits, '-' or '_'", "Invalid list name");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        if (await BroadcastStore.UsingListAsync(db, name, cancellationToken) is { Count: > 0 } users)
        {
            return AdminBody.Conflict($"broadcast {string.Join(", ", users)} uses the list and has not ended; cancel it or wait for it first", "List in use");
        }

        if (!await AudienceLists.DeleteAsync(db, name, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
