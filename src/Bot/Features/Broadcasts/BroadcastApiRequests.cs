using System.Text.RegularExpressions;

namespace Bot.Features.Broadcasts;

/// <summary>
/// A broadcast to create: what to send (a message, an album, or language variants), to whom, when, and how. Without
/// draft, scheduledAt or recurrence it starts at once.
/// </summary>
/// <param name="FromChatId">The chat that holds the message (or album).</param>
/// <param name="MessageId">The message to copy to every recipient.</param>
/// <param name="StatusChatId">A chat the bot may write to, where one status message shows the progress.</param>
/// <param name="AllowConcurrent">Start even while another broadcast is going out (otherwise that is a 409).</param>
public sealed record CreateBroadcastRequest(long FromChatId = 0, int? MessageId = null, long? StatusChatId = null, bool AllowConcurrent = false)
{
    /// <summary>An album instead of messageId: 1 to 10 message ids of fromChatId, ascending.</summary>
    public int[]? MessageIds { get; init; }

    /// <summary>The message is a text message (its copies can be edited later).</summary>
    public bool IsText { get; init; }

    /// <summary>Instead of fromChatId and messageId(s): one variant per language, "" for every other language.</summary>
    public List<VariantRequest>? Variants { get; init; }

    /// <summary>Who gets it; absent (or {}) is every active subscriber.</summary>
    public Audience? Audience { get; init; }

    /// <summary>Send once at this instant (in the future).</summary>
    public DateTimeOffset? ScheduledAt { get; init; }

    /// <summary>Send daily or weekly at a local time: the broadcast is a template that starts a run at each time.</summary>
    public RecurrenceRequest? Recurrence { get; init; }

    /// <summary>The broadcast's IANA time zone (schedule, and quiet hours of recipients without their own); UTC if absent.</summary>
    public string? TimeZone { get; init; }

    /// <summary>send or skip: a scheduled time that passed while the bot was down is sent at once (default) or skipped.</summary>
    public string? IfMissed { get; init; }

    /// <summary>No deliveries between start and end in the recipient's time zone (else the broadcast's).</summary>
    public QuietHoursRequest? QuietHours { get; init; }

    /// <summary>A paid broadcast (Telegram charges per message beyond the free limit); needs Broadcasts:AllowPaid and a budget.</summary>
    public bool AllowPaid { get; init; }

    /// <summary>The most recipients a paid broadcast reaches (1 to Broadcasts:MaxPaidBudget); it pauses there.</summary>
    public int? Budget { get; init; }

    /// <summary>Create it as a draft, to preview and send later (POST /admin/broadcasts/{id}/send).</summary>
    public bool Draft { get; init; }

    /// <summary>Only the fields of the first release are set (the idempotency fingerprint stays what it was for those).</summary>
    internal bool IsFirstReleaseShape() =>
        MessageIds is null && !IsText && Variants is null && Audience is null && ScheduledAt is null && Recurrence is null && TimeZone is null
        && IfMissed is null && QuietHours is null && !AllowPaid && Budget is null && !Draft;
}

/// <summary>What recipients of a language get.</summary>
/// <param name="Language">"" for every language without its own variant, else 2 to 8 lowercase letters.</param>
/// <param name="FromChatId">The chat that holds the message(s).</param>
/// <param name="MessageIds">One message, or an album of up to 10, ascending.</param>
/// <param name="IsText">A text message (can be edited once sent).</param>
public sealed record VariantRequest(string? Language, long FromChatId, int[]? MessageIds, bool IsText = false);

/// <summary>A recurring schedule.</summary>
/// <param name="Every">daily or weekly.</param>
/// <param name="At">The local time, HH:mm (24 hours).</param>
/// <param name="Weekday">For weekly: 0 = Sunday … 6 = Saturday.</param>
/// <param name="TimeZone">The IANA time zone of At (else the broadcast's timeZone, else UTC).</param>
public sealed record RecurrenceRequest(string? Every, string? At, int? Weekday = null, string? TimeZone = null);

/// <summary>Quiet hours, HH:mm to HH:mm (may span midnight, e.g. 23:00 to 08:00).</summary>
public sealed record QuietHoursRequest(string? Start, string? End);

/// <summary>The audience to count.</summary>
public sealed record AudienceCountRequest(Audience? Audience);

/// <summary>How many active subscribers the audience reaches now.</summary>
public sealed record AudienceCountView(int Count);

/// <summary>Resume a paused broadcast; a paid one paused at its budget needs a larger budget.</summary>
public sealed record ResumeBroadcastRequest(int? Budget = null);

/// <summary>The new text of every delivered copy (1 to 4096 characters).</summary>
public sealed record EditBroadcastRequest(string? Text);

/// <summary>The chat to send a preview of every variant to.</summary>
public sealed record PreviewBroadcastRequest(long ChatId);

/// <summary>How many calls the preview queued (a label and a copy per variant when there are several).</summary>
public sealed record PreviewView(long BroadcastId, long ChatId, int Queued);

/// <summary>The user ids of a saved audience list (replacing what it held).</summary>
public sealed record AudienceListRequest(long[]? UserIds);

/// <summary>A broadcast request, checked: what <see cref="BroadcastStore.CreateAsync(Storage.Db, NewBroadcast, CancellationToken)"/> takes and how it starts.</summary>
internal sealed record CheckedBroadcast(
    List<Variant> Variants, Audience Audience, SchedulePlan? Plan, TimeOnly? QuietStart, TimeOnly? QuietEnd, int? Budget, string? TimeZone, bool Draft)
{
    public bool StartsNow => !Draft && Plan is null;
}

/// <summary>Checks a broadcast request field by field; each problem names its field.</summary>
internal static partial class BroadcastRequestCheck
{
    public const int MaxVariants = 20;
    public const int MaxAlbum = 10;
    public const int MaxZoneLength = 64;

    /// <summary>The problems of the request (empty when none) and, when there are none, what it asks for.</summary>
    public static (List<string> Problems, CheckedBroadcast? Checked) Check(CreateBroadcastRequest r, BroadcastOptions options, DateTimeOffset now)
    {
        var problems = new List<string>();
        var variants = new List<Variant>();
        if (r.Variants is { } requested)
        {
            if (r.MessageId is not null || r.MessageIds is not null || r.FromChatId != 0 || r.IsText)
            {
                problems.Add("give either variants, or fromChatId with messageId or messageIds (and isText), not both");
            }

            if (requested.Count is 0 or > MaxVariants)
            {
                problems.Add($"variants must hold 1 to {MaxVariants} variants");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < requested.Count; i++)
            {
                var field = $"variants[{i}]";
                if (requested[i] is not { } v)
                {
                    problems.Add($"{field} must be an object");
                    continue;
                }

                if (v.Language is not { } language || (language.Length > 0 && !LanguagePattern().IsMatch(language)))
                {
                    problems.Add($"{field}.language must be \"\" (every other language) or 2 to 8 lowercase letters");
                }
                else if (!seen.Add(language))
                {
                    problems.Add($"{field}.language \"{language}\" is given twice");
                }

                if (v.FromChatId == 0)
                {
                    problems.Add($"{field}.fromChatId must be a chat id");
                }

                if (MessageIdsProblem(v.MessageIds, $"{field}.messageIds") is { } ids)
                {
                    problems.Add(ids);
                }
                else if (v.IsText && v.MessageIds!.Length > 1)
                {
                    problems.Add($"{field}.isText must be false for an album");
                }

                variants.Add(new Variant(v.Language ?? "", v.FromChatId, v.MessageIds ?? [], v.IsText));
            }
        }
        else
        {
            if (r.FromChatId == 0)
            {
                problems.Add("fromChatId must be a chat id");
            }

            int[]? ids = null;
            if (r.MessageId is not null && r.MessageIds is not null)
            {
                problems.Add("give messageId or messageIds, not both");
            }
            else if (r.MessageId is { } id)
            {
                if (id <= 0)
                {
                    problems.Add("messageId must be a positive message id");
                }

                ids = [id];
            }
            else if (r.MessageIds is not null)
            {
                if (MessageIdsProblem(r.MessageIds, "messageIds") is { } wrong)
                {
                    problems.Add(wrong);
                }
                else if (r.IsText && r.MessageIds.Length > 1)
                {
                    problems.Add("isText must be false for an album");
                }

                ids = r.MessageIds;
            }
            else
            {
                problems.Add("messageId is required (or messageIds for an album, or variants)");
            }

            variants.Add(new Variant("", r.FromChatId, ids ?? [], r.IsText));
        }

        if (r.StatusChatId == 0)
        {
            problems.Add("statusChatId, when given, must be a chat id");
        }

        var audience = r.Audience ?? Audience.Everyone;
        if (audience.Problem() is { } audienceProblem)
        {
            problems.Add(audienceProblem);
        }

        var zone = ZoneProblems(r, problems);
        var plan = PlanOf(r, zone, now, problems);
        var (quietStart, quietEnd) = QuietHoursOf(r.QuietHours, problems);

        if (r.Budget is not null && !r.AllowPaid)
        {
            problems.Add("budget applies to a paid broadcast (\"allowPaid\": true)");
        }

        if (r.AllowPaid && options.AllowPaid)
        {
            if (r.Budget is not { } budget || budget < 1 || budget > options.MaxPaidBudget)
            {
                problems.Add($"budget must be 1 to {options.MaxPaidBudget} recipients with \"allowPaid\": true");
            }

            if (variants.Any(v => v.IsAlbum))
            {
                problems.Add("allowPaid cannot be used with an album (messageIds of more than one message)");
            }
        }

        return problems.Count > 0
            ? (problems, null)
            : (problems, new CheckedBroadcast(variants, audience, plan, quietStart, quietEnd, r.AllowPaid ? r.Budget : null, zone, r.Draft));
    }

    /// <summary>1 to 10 positive ids in ascending order, else what is wrong.</summary>
    public static string? MessageIdsProblem(int[]? ids, string field) =>
        ids is null || ids.Length is 0 or > MaxAlbum || ids.Any(id => id <= 0) || ids.Zip(ids.Skip(1)).Any(p => p.First >= p.Second)
            ? $"{field} must be 1 to {MaxAlbum} positive message ids in ascending order"
            : null;

    /// <summary>The time zone the request names (recurrence.timeZone or timeZone), checked for its shape; the database checks the name.</summary>
    private static string? ZoneProblems(CreateBroadcastRequest r, List<string> problems)
    {
        if (r.TimeZone is { } zone && (zone.Length is 0 or > MaxZoneLength || zone.Any(char.IsWhiteSpace)))
        {
            problems.Add("timeZone must be an IANA time zone name such as Europe/Berlin");
        }

        if (r.Recurrence?.TimeZone is { } recurring && (recurring.Length is 0 or > MaxZoneLength || recurring.Any(char.IsWhiteSpace)))
        {
            problems.Add("recurrence.timeZone must be an IANA time zone name such as Europe/Berlin");
        }

        if (r.TimeZone is not null && r.Recurrence?.TimeZone is not null && r.TimeZone != r.Recurrence.TimeZone)
        {
            problems.Add("recurrence.timeZone and timeZone differ; give one of them");
        }

        return r.Recurrence?.TimeZone ?? r.TimeZone;
    }

    private static SchedulePlan? PlanOf(CreateBroadcastRequest r, string? zone, DateTimeOffset now, List<string> problems)
    {
        var ifMissed = r.IfMissed ?? "send";
        if (ifMissed is not ("send" or "skip"))
        {
            problems.Add("ifMissed must be send or skip");
        }

        if (r.ScheduledAt is null && r.Recurrence is null)
        {
            if (r.IfMissed is not null)
            {
                problems.Add("ifMissed applies to a schedule: give scheduledAt or recurrence");
            }

            return null;
        }

        if (r.Draft)
        {
            problems.Add("draft cannot be combined with scheduledAt or recurrence (a draft is sent with POST /admin/broadcasts/{id}/send)");
        }

        if (r.ScheduledAt is { } at)
        {
            if (r.Recurrence is not null)
            {
                problems.Add("give scheduledAt or recurrence, not both");
            }

            if (at <= now)
            {
                problems.Add("scheduledAt must be in the future");
            }
            else if (at > now.AddDays(366))
            {
                problems.Add("scheduledAt must be within a year");
            }

            return new SchedulePlan(at, null, null, null, zone ?? "UTC", ifMissed);
        }

        var recurrence = r.Recurrence!;
        if (recurrence.Every is not ("daily" or "weekly"))
        {
            problems.Add("recurrence.every must be daily or weekly");
        }

        if (recurrence.At is not { } text || !BroadcastSchedule.TryTime(text, out var time))
        {
            problems.Add("recurrence.at must be a time HH:mm (24 hours)");
            time = default;
        }

        if (recurrence.Every == "weekly" && recurrence.Weekday is null)
        {
            problems.Add("recurrence.weekday (0 = Sunday to 6 = Saturday) is required for weekly");
        }
        else if (recurrence.Every == "daily" && recurrence.Weekday is not null)
        {
            problems.Add("recurrence.weekday applies to weekly only");
        }
        else if (recurrence.Weekday is < 0 or > 6)
        {
            problems.Add("recurrence.weekday must be 0 (Sunday) to 6 (Saturday)");
        }

        return new SchedulePlan(null, recurrence.Every, time, recurrence.Every == "weekly" ? (short?)recurrence.Weekday : null, zone ?? "UTC", ifMissed);
    }

    private static (TimeOnly? Start, TimeOnly? End) QuietHoursOf(QuietHoursRequest? quiet, List<string> problems)
    {
        if (quiet is null)
        {
            return (null, null);
        }

        var ok = true;
        if (quiet.Start is not { } start || !BroadcastSchedule.TryTime(start, out var from))
        {
            problems.Add("quietHours.start must be a time HH:mm (24 hours)");
            ok = false;
            from = default;
        }

        if (quiet.End is not { } end || !BroadcastSchedule.TryTime(end, out var to))
        {
            problems.Add("quietHours.end must be a time HH:mm (24 hours)");
            ok = false;
            to = default;
        }

        if (ok && from == to)
        {
            problems.Add("quietHours.start and quietHours.end must differ");
        }

        return ok ? (from, to) : (null, null);
    }

    [GeneratedRegex("^[a-z]{2,8}$")]
    private static partial Regex LanguagePattern();
}
