using System.Globalization;
using Bot.Features.Subscriptions;
using Bot.Outbox;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.JoinGate;

/// <summary>
/// The join gate. A user who asks to join a gated chat (chat_join_request) or joins it without asking (chat_member:
/// an invite link without approval, a public group, added by someone) is let in at once if they are in the main
/// chat; anyone else gets the chat's check, and a direct joiner is restricted (may not send) until it is decided.
/// The right answer lets them in; a wrong one costs an attempt and, after a short cooldown, a new check; the last
/// wrong answer declines (a direct joiner is removed, free to come back later) and, for a while, declines that user's
/// next requests without a check. The deadline sweep (<see cref="JoinDeadlineSweeper"/>) decides those who never
/// answer. Every request and its decision is a row of join_requests, stored once however often Telegram delivers the
/// update; every decision is posted to the chat's log chat (<see cref="GateLog"/>).
/// </summary>
public sealed partial class JoinGateHandler(
    Texts texts, FeatureFlags flags, IOptionsMonitor<JoinGateOptions> gateOptions, JoinMetrics metrics, ILogger<JoinGateHandler> logger) : IUpdateHandler
{
    public const string CallbackPrefix = JoinDecisions.CallbackPrefix;

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        switch (context.Update)
        {
            case { Type: UpdateType.ChatJoinRequest, ChatJoinRequest: { Chat: not null, From: not null } request }:
                return await RequestAsync(context, request);
            // Every hop checked: the library's non-nullable members are null when an update omits them.
            case { Type: UpdateType.ChatMember, ChatMember: { Chat: not null, From: not null, OldChatMember.User: not null, NewChatMember.User: not null } change }:
                return await MemberChangedAsync(context, change);
            case { Type: UpdateType.MyChatMember, MyChatMember: { Chat.Type: ChatType.Group or ChatType.Supergroup, From: not null, NewChatMember: not null } change }:
                return await BotRightsChangedAsync(context, change);
            case { Type: UpdateType.CallbackQuery, CallbackQuery: { Data: { } data } query }
                when data.StartsWith(CallbackPrefix, StringComparison.Ordinal):
                await AnswerAsync(context, query, data[CallbackPrefix.Length..]);
                return true;
            default:
                return false;
        }
    }

    private async Task<bool> RequestAsync(UpdateContext context, ChatJoinRequest request)
    {
        var options = gateOptions.CurrentValue;
        var gate = await GateSettings.GetAsync(context.Db, request.Chat.Id, options, context.CancellationToken);
        if (!gate.Active)
        {
            return false;
        }

        var (chatId, userId) = (request.Chat.Id, request.From.Id);
        if (!flags.IsEnabled(JoinGateFeature.FeatureName, userId))
        {
            // Left to the chat's own admins, as if the bot were not there.
            LogGateOff(logger, chatId, userId);
            return true;
        }

        var member = await IsMainChatMemberAsync(context, options.MainChat, userId);

        // A repeated request while one is open (Telegram sends one again when the user asks again) is the same
        // request: a member is let in on it, anyone else keeps the check already sent.
        if (await JoinDecisions.OpenRequestAsync(context.Db, chatId, userId, context.CancellationToken) is { } open)
        {
            if (member && await JoinDecisions.DecideAsync(context.Db, context.Outbox, open, approve: true, JoinReason.Member, context.CancellationToken) is { } decision)
            {
                await JoinDecisions.TakeCheckAsync(context.State, request.UserChatId, userId, open, context.CancellationToken);
                await DecidedAsync(context, gate, decision, GateLog.Title(request.Chat));
            }
            else
            {
                LogRepeated(logger, open, chatId, userId);
            }

            return true;
        }

        await EnterAsync(context, gate, request.Chat, request.From, JoinEntry.Request, request.UserChatId, request.Date, member);
        return true;
    }

    /// <summary>A chat_member update: a user who was not in a gated chat and now is, without a join request, is gated.</summary>
    private async Task<bool> MemberChangedAsync(UpdateContext context, ChatMemberUpdated change)
    {
        var user = change.NewChatMember.User;
        if (Membership.Left(change.OldChatMember, change.NewChatMember) && !user.IsBot)
        {
            // For the overview's "still a member after 7 days"; others may handle the leave too.
            await JoinDecisions.MarkLeftAsync(context.Db, change.Chat.Id, user.Id, change.Date, context.CancellationToken);
            return false;
        }

        if (!Membership.Joined(change.OldChatMember, change.NewChatMember) || change.ViaJoinRequest || user.IsBot)
        {
            return false;
        }

        var options = gateOptions.CurrentValue;
        var gate = await GateSettings.GetAsync(context.Db, change.Chat.Id, options, context.CancellationToken);
        if (!gate.Active)
        {
            return false;
        }

        if (!flags.IsEnabled(JoinGateFeature.FeatureName, user.Id))
        {
            LogGateOff(logger, change.Chat.Id, user.Id);
            return true;
        }

        if (change.Chat.Type != ChatType.Supergroup)
        {
            // Telegram restricts and unbans members of supergroups only: a basic group's joiner cannot be held back.
            LogBasicGroup(logger, change.Chat.Id, user.Id);
            return true;
        }

        if (await JoinDecisions.OpenRequestAsync(context.Db, change.Chat.Id, user.Id, context.CancellationToken) is not null)
        {
            // Already being checked (a repeated join while restricted).
            return true;
        }

        var member = await IsMainChatMemberAsync(context, options.MainChat, user.Id);
        await EnterAsync(context, gate, change.Chat, user, JoinEntry.Direct, user.Id, change.Date, member);
        return true;
    }

    /// <summary>
    /// The bot's own place in a chat changed. In a gated chat, removed, or without the rights the gate needs (ban users
    /// for direct joins, invite users for requests), the gate pauses (joins are left to the chat's admins) and says so in
    /// the log; given the rights back, it resumes. Stored as a settings change by whoever changed the bot's rights.
    /// </summary>
    private async Task<bool> BotRightsChangedAsync(UpdateContext context, ChatMemberUpdated change)
    {
        var gate = await GateSettings.GetAsync(context.Db, change.Chat.Id, gateOptions.CurrentValue, context.CancellationToken, forUpdate: true);
        if (!gate.Enabled)
        {
            return false;
        }

        var reason = change.NewChatMember switch
        {
            ChatMemberLeft or ChatMemberBanned => "JoinGate.paused_removed",
            ChatMemberAdministrator { CanRestrictMembers: true, CanInviteUsers: true } or ChatMemberOwner => null,
            _ => "JoinGate.paused_rights",
        };
        var paused = reason is null ? null : texts.Get(Texts.English, reason);
        if (paused == gate.PausedReason)
        {
            return true;
        }

        await GateSettings.ChangeAsync(context.Db, change.Chat.Id, change.From.Id, "paused_reason", paused, gate.PausedReason, context.CancellationToken);
        var title = GateLog.Title(change.Chat);
        await GateLog.LineAsync(context.Outbox, gate, paused is null
            ? texts.Format(Texts.English, "JoinGate.log_resumed", ("chat", GateLog.Html(title)))
            : texts.Format(Texts.English, "JoinGate.log_paused", ("chat", GateLog.Html(title)), ("reason", paused)), context.CancellationToken);
        LogPaused(logger, change.Chat.Id, paused ?? "resumed");
        return true;
    }

    /// <summary>A new request or direct join: decided at once (a member, an admin's allowance, a recent failure) or checked.</summary>
    private async Task EnterAsync(UpdateContext context, ChatGate gate, Chat chat, User user, string entry, long userChatId, DateTime at, bool member)
    {
        var cancellationToken = context.CancellationToken;
        var options = gateOptions.CurrentValue;
        var title = GateLog.Title(chat);
        var verdict = member ? null : await JoinDecisions.VerdictAsync(context.Db, chat.Id, user.Id, cancellationToken);
        var (state, reason) = (member, verdict) switch
        {
            (true, _) => (JoinDecisions.Approved, JoinReason.Member),
            (_, "allow") => (JoinDecisions.Approved, JoinReason.Admin),
            (_, "block") => (JoinDecisions.Declined, JoinReason.Repeat),
            _ => (JoinDecisions.Pending, (string?)null),
        };
        // Every join counts towards raid mode, but only those who would be checked are held by it.
        var raid = options.RaidJoinsPerMinute > 0
            ? await GateRaids.CountAsync(context.Db, chat.Id, options.RaidJoinsPerMinute, TimeSpan.FromMinutes(options.RaidMinutes), cancellationToken)
            : default;
        var language = await UserDirectory.LanguageAsync(context, user);
        var checkTime = TimeSpan.FromSeconds(gate.DeadlineSeconds);
        var id = await JoinDecisions.InsertAsync(
            context.Db, chat.Id, user.Id, userChatId, context.Claim.UpdateId, at, state, reason, checkTime, cancellationToken,
            entry, gate.EffectiveKind, gate.Attempts, title, language,
            userName: string.IsNullOrEmpty(user.LastName) ? user.FirstName : user.FirstName + " " + user.LastName, userHandle: user.Username);
        if (id is not { } requestId)
        {
            LogAlreadyStored(logger, context.Claim.UpdateId);
            return;
        }

        if (reason is not null)
        {
            if (verdict == "allow")
            {
                await JoinDecisions.ClearVerdictAsync(context.Db, chat.Id, user.Id, cancellationToken);
            }

            var decision = new Decision(requestId, chat.Id, user.Id, userChatId, entry, state == JoinDecisions.Approved, reason);
            // A direct joiner who is let in at once was never restricted: nothing to lift. One declined at once is removed.
            if (entry == JoinEntry.Request || !decision.Approved)
            {
                await JoinDecisions.QueueDecisionAsync(context.Outbox, decision, cancellationToken);
            }

            await DecidedAsync(context, gate, decision, title);
            return;
        }

        if (entry == JoinEntry.Direct)
        {
            await JoinDecisions.RestrictAsync(context.Outbox, chat.Id, user.Id, cancellationToken);
        }

        if (raid.InRaid)
        {
            // No check goes out for a join during a raid: it waits for the raid to end (declined) or for an admin.
            await JoinDecisions.HoldAsync(context.Db, requestId, cancellationToken);
            if (raid.Started)
            {
                metrics.RaidStarted();
                LogRaid(logger, chat.Id, raid.Joins);
                await GateLog.RaidStartedAsync(context.Outbox, texts, gate, title, raid.Joins, options.RaidMinutes, cancellationToken);
            }

            return;
        }

        // A join request's private chat is open to the bot for a few minutes whatever the user did before; a direct
        // joiner is asked in private only if they have talked to the bot, else in the group, mentioned.
        var inGroup = entry == JoinEntry.Direct && !await UserDirectory.CanWriteToAsync(context, user.Id);
        var target = inGroup ? chat.Id : userChatId;
        var check = GateChecks.Create(gate, Random.Shared, texts, language);
        var buttons = await Keyboard(context, requestId, check);
        var key = (entry, inGroup) switch
        {
            (JoinEntry.Request, _) => "JoinGate.request_check",
            (_, true) => "JoinGate.direct_check_group",
            _ => "JoinGate.direct_check_private",
        };
        var text = texts.Format(language, key,
            ("user", GateLog.Mention(user.Id, user.FirstName)), ("chat", GateLog.Html(title)), ("question", GateLog.Html(check.Question)),
            ("minutes", Minutes(checkTime)), ("attempts", gate.Attempts));
        var sent = await context.Outbox.EnqueueAsync(
            new SendMessageRequest { ChatId = target, Text = text, ParseMode = ParseMode.Html, ReplyMarkup = buttons, LinkPreviewOptions = NoPreview },
            target, cancellationToken: cancellationToken);
        if (inGroup)
        {
            await JoinDecisions.RememberGroupCheckAsync(context.Db, requestId, chat.Id, sent, cancellationToken);
        }

        LogChallenged(logger, requestId, chat.Id, user.Id, entry, check.Kind);
    }

    private async Task AnswerAsync(UpdateContext context, CallbackQuery query, string token)
    {
        if (token.Contains(':', StringComparison.Ordinal))
        {
            // A check sent before checks had tokens ("join:ID:ANSWER").
            await AnswerLegacyAsync(context, query, token);
            return;
        }

        var cancellationToken = context.CancellationToken;
        var language = await UserDirectory.LanguageAsync(context, query.From);
        if (await JoinDecisions.TokenRequestAsync(context.Db, token, cancellationToken) is not { } requestId
            || await JoinDecisions.LockAsync(context.Db, requestId, cancellationToken) is not { } request)
        {
            context.Answer(query, texts.Get(language, "JoinGate.expired"));
            return;
        }

        if (RefusedPress(context, query, request, language))
        {
            return;
        }

        language = request.Language ?? language;
        if (request.Cooling && !request.Late)
        {
            context.Answer(query, texts.Get(language, "JoinGate.cooldown"));
            return;
        }

        if (await JoinDecisions.UseTokenAsync(context.Db, requestId, token, cancellationToken) is not { } correct)
        {
            context.Answer(query, texts.Get(language, "JoinGate.expired"));
            return;
        }

        var options = gateOptions.CurrentValue;
        var gate = await GateSettings.GetAsync(context.Db, request.ChatId, options, cancellationToken);
        var title = request.ChatTitle ?? request.ChatId.ToString(CultureInfo.InvariantCulture);
        if (!correct && !request.Late && request.AttemptsLeft > 1)
        {
            var cooldown = TimeSpan.FromSeconds(options.JoinRetryCooldownSeconds);
            await JoinDecisions.RetryAsync(context.Db, requestId, cooldown, cancellationToken);
            var check = GateChecks.Create(gate, Random.Shared, texts, language);
            var buttons = await Keyboard(context, requestId, check);
            var text = texts.Format(language, "JoinGate.retry",
                ("user", GateLog.Mention(query.From.Id, query.From.FirstName)), ("chat", GateLog.Html(title)),
                ("question", GateLog.Html(check.Question)), ("attempts", request.AttemptsLeft - 1), ("seconds", options.JoinRetryCooldownSeconds));
            context.Answer(query, texts.Get(language, "JoinGate.wrong_try_again"));
            if (query.Message is { } shown)
            {
                await context.Outbox.EnqueueAsync(
                    new EditMessageTextRequest { ChatId = shown.Chat.Id, MessageId = shown.MessageId, Text = text, ParseMode = ParseMode.Html, ReplyMarkup = buttons },
                    shown.Chat.Id, cancellationToken: cancellationToken);
            }

            metrics.Retried();
            return;
        }

        var (approve, reason) = request.Late
            ? (false, JoinReason.Timeout)
            : (correct, correct ? JoinReason.CorrectAnswer : JoinReason.WrongAnswer);
        if (await JoinDecisions.DecideAsync(context.Db, context.Outbox, requestId, approve, reason, cancellationToken) is not { } decision)
        {
            context.Answer(query, texts.Get(language, "JoinGate.already_decided"));
            return;
        }

        if (reason == JoinReason.WrongAnswer && options.JoinRepeatDeclineMinutes > 0)
        {
            await JoinDecisions.SetVerdictAsync(context.Db, request.ChatId, request.UserId, "block", TimeSpan.FromMinutes(options.JoinRepeatDeclineMinutes), cancellationToken);
        }

        context.Answer(query);
        await DecidedAsync(context, gate, decision, title, query.Message, language);
    }

    /// <summary>
    /// What follows a decision: the user is told (a private check's message becomes the outcome; a check in the group is
    /// deleted), a welcome goes out if the chat has one (in private for a request, in the group for a direct joiner),
    /// the log chat gets its line, the metric counts.
    /// </summary>
    private async Task DecidedAsync(UpdateContext context, ChatGate gate, Decision decision, string title, Message? check = null, string? language = null)
    {
        var cancellationToken = context.CancellationToken;
        language ??= Texts.English;
        Decided(decision);
        await GateLog.DecisionAsync(context.Outbox, texts, gate, decision, title, cancellationToken);
        var outcome = OutcomeText(texts, language, decision, title);
        if (check is { } inGroup && inGroup.Chat.Id == decision.ChatId)
        {
            await context.Outbox.EnqueueAsync(new DeleteMessageRequest { ChatId = inGroup.Chat.Id, MessageId = inGroup.MessageId }, inGroup.Chat.Id, cancellationToken: cancellationToken);
            await JoinDecisions.ForgetGroupCheckAsync(context.Db, decision.Id, cancellationToken);
        }
        else if (check is { } inPrivate && outcome is not null)
        {
            await context.Outbox.EnqueueAsync(
                new EditMessageTextRequest { ChatId = inPrivate.Chat.Id, MessageId = inPrivate.MessageId, Text = outcome },
                inPrivate.Chat.Id, cancellationToken: cancellationToken);
        }
        else if (decision is { Reason: JoinReason.Repeat, Entry: JoinEntry.Request } && outcome is not null)
        {
            // Declined without a check: told why, in the request's private chat.
            context.Send(decision.UserChatId, outcome);
        }

        if (decision.Approved && decision.Reason != JoinReason.Member && gate.WelcomeIn(language) is { } welcome)
        {
            context.Send(decision.Entry == JoinEntry.Direct ? decision.ChatId : decision.UserChatId, welcome);
        }
    }

    /// <summary>What the user is told of a decision, in their language; null when nothing is said.</summary>
    public static string? OutcomeText(Texts texts, string language, Decision decision, string title)
    {
        var key = (decision.Entry, decision.Reason) switch
        {
            (JoinEntry.Request, JoinReason.CorrectAnswer) => "JoinGate.approved",
            (JoinEntry.Request, JoinReason.WrongAnswer) => "JoinGate.wrong_answer",
            (JoinEntry.Request, JoinReason.Timeout) => "JoinGate.timeout",
            (JoinEntry.Request, JoinReason.Repeat) => "JoinGate.repeat",
            (JoinEntry.Request, JoinReason.Raid) => "JoinGate.raid_declined",
            (JoinEntry.Direct, JoinReason.CorrectAnswer) => "JoinGate.direct_approved",
            (JoinEntry.Direct, JoinReason.WrongAnswer) => "JoinGate.direct_removed",
            (JoinEntry.Direct, JoinReason.Timeout) => "JoinGate.direct_timeout",
            _ => null,
        };
        return key is null ? null : texts.Format(language, key, ("chat", title));
    }

    /// <summary>A press that may not answer the check: someone else's, or on a request already decided (answered here).</summary>
    private bool RefusedPress(UpdateContext context, CallbackQuery query, LockedRequest request, string language)
    {
        if (request.UserId != query.From.Id)
        {
            context.Answer(query, texts.Get(language, "JoinGate.not_yours"), alert: true);
            return true;
        }

        if (request.State != JoinDecisions.Pending)
        {
            context.Answer(query, texts.Get(language, "JoinGate.already_decided"));
            return true;
        }

        return false;
    }

    /// <summary>The check's buttons, each carrying a fresh single-use token.</summary>
    private static async Task<InlineKeyboardMarkup> Keyboard(UpdateContext context, long requestId, GateCheck check)
    {
        var data = await JoinDecisions.SaveCheckAsync(context.Db, requestId, check, context.CancellationToken);
        return new InlineKeyboardMarkup(check.Buttons
            .Select((b, i) => InlineKeyboardButton.WithCallbackData(b.Label, data[i]))
            .Chunk(check.PerRow).Select(row => row.ToArray()).ToArray());
    }

    /// <summary>A press on a check sent before checks had tokens: its answer is in the button, checked against the stored one.</summary>
    private async Task AnswerLegacyAsync(UpdateContext context, CallbackQuery query, string data)
    {
        var parts = data.Split(':');
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var requestId)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var chosen)
            || await JoinDecisions.LockAsync(context.Db, requestId, context.CancellationToken) is not { } request)
        {
            context.Answer(query);
            return;
        }

        var language = await UserDirectory.LanguageAsync(context, query.From);
        if (RefusedPress(context, query, request, language))
        {
            return;
        }

        var check = await JoinDecisions.TakeCheckAsync(context.State, request.UserChatId, request.UserId, requestId, context.CancellationToken);
        var (approve, reason) = request.Late || check is null
            ? (false, JoinReason.Timeout)
            : (chosen == check.Answer, chosen == check.Answer ? JoinReason.CorrectAnswer : JoinReason.WrongAnswer);
        if (await JoinDecisions.DecideAsync(context.Db, context.Outbox, requestId, approve, reason, context.CancellationToken) is not { } decision)
        {
            context.Answer(query, texts.Get(language, "JoinGate.already_decided"));
            return;
        }

        var gate = await GateSettings.GetAsync(context.Db, request.ChatId, gateOptions.CurrentValue, context.CancellationToken);
        context.Answer(query);
        await DecidedAsync(context, gate, decision, check?.Chat ?? request.ChatTitle ?? "", query.Message, check?.Language ?? language);
    }

    /// <summary>
    /// Asks Telegram whether the user is in the main chat. If the bot cannot see that chat (removed from it, no
    /// rights, a wrong id) the requester is checked like anyone else and the problem is logged; a transient failure
    /// throws, so the update is retried.
    /// </summary>
    private async Task<bool> IsMainChatMemberAsync(UpdateContext context, long? mainChat, long userId)
    {
        if (mainChat is not { } main)
        {
            return false;
        }

        try
        {
            var member = await context.Reader.GetChatMember(main, userId, context.CancellationToken);
            return Membership.IsInChat(member);
        }
        catch (ApiRequestException exception) when (exception.ErrorCode is 400 or 403)
        {
            LogMembershipUnknown(logger, main, userId, exception.ErrorCode, exception.Message);
            return false;
        }
    }

    private static readonly LinkPreviewOptions NoPreview = new() { IsDisabled = true };

    private static int Minutes(TimeSpan time) => Math.Max(1, (int)Math.Round(time.TotalMinutes));

    private void Decided(Decision decision)
    {
        metrics.Decided(decision.Approved, decision.Reason);
        LogDecided(logger, decision.Id, decision.ChatId, decision.UserId, decision.Approved ? JoinDecisions.Approved : JoinDecisions.Declined, decision.Reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId}: {State} ({Reason})")]
    private static partial void LogDecided(ILogger logger, long requestId, long? chatId, long userId, string state, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId} ({Entry}): {Kind} check sent")]
    private static partial void LogChallenged(ILogger logger, long requestId, long chatId, long userId, string entry, string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request to chat {ChatId} from user {UserId} repeats open request {RequestId}; the check already sent stands")]
    private static partial void LogRepeated(ILogger logger, long requestId, long chatId, long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "User {UserId} joined chat {ChatId}, a basic group: Telegram restricts members of supergroups only, so the join is not gated (make it a supergroup)")]
    private static partial void LogBasicGroup(ILogger logger, long chatId, long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Join gate of chat {ChatId}: {State}")]
    private static partial void LogPaused(ILogger logger, long chatId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId} enters raid mode: {Joins} joins within a minute; new joins are held without a check")]
    private static partial void LogRaid(ILogger logger, long chatId, int joins);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request of update {UpdateId} was stored before; nothing to do")]
    private static partial void LogAlreadyStored(ILogger logger, long updateId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join gate is off for user {UserId}: the request to chat {ChatId} is left to the chat's admins")]
    private static partial void LogGateOff(ILogger logger, long chatId, long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot tell whether user {UserId} is in the main chat {MainChatId} ({Code}: {Error}); the user gets the check. Is the bot in that chat?")]
    private static partial void LogMembershipUnknown(ILogger logger, long mainChatId, long userId, int code, string error);
}
