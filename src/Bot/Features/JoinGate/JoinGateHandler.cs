using System.Globalization;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.JoinGate;

/// <summary>
/// The join gate. A join request to a gated chat from a member of the main chat is approved at once; anyone else
/// gets a private check with the answers as buttons: the right one approves, a wrong one declines, and the
/// deadline sweep (<see cref="JoinDeadlineSweeper"/>) declines those who do not answer. Every request and its
/// decision is a row of join_requests, stored once however often Telegram delivers the update.
/// </summary>
public sealed partial class JoinGateHandler(
    Texts texts, FeatureFlags flags, IOptionsMonitor<JoinGateOptions> gate, JoinMetrics metrics, ILogger<JoinGateHandler> logger) : IUpdateHandler
{
    public const string CallbackPrefix = "join:";

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        switch (context.Update)
        {
            case { Type: UpdateType.ChatJoinRequest, ChatJoinRequest: { } request }
                when gate.CurrentValue.GatedChats.Contains(request.Chat.Id):
                if (!flags.IsEnabled(JoinGateFeature.FeatureName, request.From.Id))
                {
                    // Left to the chat's own admins, as if the bot were not there.
                    LogGateOff(logger, request.Chat.Id, request.From.Id);
                    return true;
                }

                await RequestAsync(context, request);
                return true;
            case { Type: UpdateType.CallbackQuery, CallbackQuery: { Data: { } data } query }
                when data.StartsWith(CallbackPrefix, StringComparison.Ordinal):
                await AnswerAsync(context, query, data);
                return true;
            default:
                return false;
        }
    }

    private async Task RequestAsync(UpdateContext context, ChatJoinRequest request)
    {
        var options = gate.CurrentValue;
        var (chatId, userId) = (request.Chat.Id, request.From.Id);
        var member = await IsMainChatMemberAsync(context, options.MainChat!.Value, userId);

        // A repeated request while one is open (Telegram sends one again when the user asks again) is the same
        // request: a member is let in on it, anyone else keeps the check already sent.
        if (await JoinDecisions.OpenRequestAsync(context.Db, chatId, userId, context.CancellationToken) is { } open)
        {
            if (member && await JoinDecisions.DecideAsync(context.Db, context.Outbox, open, approve: true, JoinReason.Member, context.CancellationToken))
            {
                await JoinDecisions.TakeCheckAsync(context.State, request.UserChatId, userId, open, context.CancellationToken);
                Decided(open, chatId, userId, approved: true, JoinReason.Member);
            }
            else
            {
                LogRepeated(logger, open, chatId, userId);
            }

            return;
        }

        var checkTime = TimeSpan.FromSeconds(options.JoinCheckSeconds);
        var id = await JoinDecisions.InsertAsync(
            context.Db, chatId, userId, request.UserChatId, context.Claim.UpdateId, request.Date,
            member ? JoinDecisions.Approved : JoinDecisions.Pending, member ? JoinReason.Member : null, checkTime, context.CancellationToken);
        if (id is not { } requestId)
        {
            LogAlreadyStored(logger, context.Claim.UpdateId);
            return;
        }

        if (member)
        {
            await JoinDecisions.QueueCallAsync(context.Outbox, chatId, userId, request.UserChatId, approve: true, context.CancellationToken);
            Decided(requestId, chatId, userId, approved: true, JoinReason.Member);
            return;
        }

        var language = await UserDirectory.LanguageAsync(context, request.From);
        var title = request.Chat.Title ?? request.Chat.Username ?? chatId.ToString(CultureInfo.InvariantCulture);
        var challenge = JoinChallenge.Create(Random.Shared);
        var check = new PendingCheck(challenge.Answer, title, language);
        // Kept a day past the deadline so the sweep can still word its message; taken when the request is decided.
        await context.State.SetAsync(
            request.UserChatId, userId, JoinDecisions.StateKey(requestId), JoinDecisions.Serialize(check), checkTime + TimeSpan.FromDays(1), context.CancellationToken);
        var buttons = new InlineKeyboardMarkup(challenge.Options
            .Select(o => InlineKeyboardButton.WithCallbackData(o.ToString(CultureInfo.InvariantCulture), $"{CallbackPrefix}{requestId}:{o}"))
            .Chunk(2).Select(row => row.ToArray()).ToArray());
        var text = texts.Format(language, "JoinGate.question",
            ("chat", title), ("a", challenge.A), ("b", challenge.B), ("minutes", Math.Max(1, (int)Math.Round(checkTime.TotalMinutes))));
        context.Send(request.UserChatId, text, buttons);
        LogChallenged(logger, requestId, chatId, userId);
    }

    private async Task AnswerAsync(UpdateContext context, CallbackQuery query, string data)
    {
        var parts = data[CallbackPrefix.Length..].Split(':');
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var requestId)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var chosen))
        {
            context.Answer(query);
            return;
        }

        if (await JoinDecisions.LockAsync(context.Db, requestId, context.CancellationToken) is not { } request)
        {
            context.Answer(query);
            return;
        }

        var (userId, userChatId, state, late) = (request.UserId, request.UserChatId, request.State, request.Late);
        var language = await UserDirectory.LanguageAsync(context, query.From);
        if (userId != query.From.Id)
        {
            context.Answer(query, texts.Get(language, "JoinGate.not_yours"), alert: true);
            return;
        }

        if (state != JoinDecisions.Pending)
        {
            context.Answer(query, texts.Get(language, "JoinGate.already_decided"));
            return;
        }

        var check = await JoinDecisions.TakeCheckAsync(context.State, userChatId, userId, requestId, context.CancellationToken);
        var (approve, reason) = late || check is null
            ? (false, JoinReason.Timeout)
            : (chosen == check.Answer, chosen == check.Answer ? JoinReason.CorrectAnswer : JoinReason.WrongAnswer);
        await JoinDecisions.DecideAsync(context.Db, context.Outbox, requestId, approve, reason, context.CancellationToken);
        Decided(requestId, null, userId, approve, reason);

        var key = reason switch { JoinReason.CorrectAnswer => "JoinGate.approved", JoinReason.WrongAnswer => "JoinGate.wrong_answer", _ => "JoinGate.timeout" };
        var result = texts.Format(check?.Language ?? language, key, ("chat", check?.Chat ?? ""));
        context.Answer(query);
        if (query.Message is { } question)
        {
            // The check's message becomes its outcome, without the buttons.
            await context.Outbox.EnqueueAsync(
                new EditMessageTextRequest { ChatId = question.Chat.Id, MessageId = question.MessageId, Text = result },
                question.Chat.Id, cancellationToken: context.CancellationToken);
        }
        else
        {
            context.Send(userChatId, result);
        }
    }

    /// <summary>
    /// Asks Telegram whether the user is in the main chat. If the bot cannot see that chat (removed from it, no
    /// rights, a wrong id) the requester is checked like anyone else and the problem is logged; a transient failure
    /// throws, so the update is retried.
    /// </summary>
    private async Task<bool> IsMainChatMemberAsync(UpdateContext context, long mainChat, long userId)
    {
        try
        {
            var member = await context.Reader.GetChatMember(mainChat, userId, context.CancellationToken);
            return Membership.IsInChat(member);
        }
        catch (ApiRequestException exception) when (exception.ErrorCode is 400 or 403)
        {
            LogMembershipUnknown(logger, mainChat, userId, exception.ErrorCode, exception.Message);
            return false;
        }
    }

    private void Decided(long requestId, long? chatId, long userId, bool approved, string reason)
    {
        metrics.Decided(approved, reason);
        LogDecided(logger, requestId, chatId, userId, approved ? JoinDecisions.Approved : JoinDecisions.Declined, reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId}: {State} ({Reason})")]
    private static partial void LogDecided(ILogger logger, long requestId, long? chatId, long userId, string state, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId}: check sent")]
    private static partial void LogChallenged(ILogger logger, long requestId, long chatId, long userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request to chat {ChatId} from user {UserId} repeats open request {RequestId}; the check already sent stands")]
    private static partial void LogRepeated(ILogger logger, long requestId, long chatId, long userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request of update {UpdateId} was stored before; nothing to do")]
    private static partial void LogAlreadyStored(ILogger logger, long updateId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Join gate is off for user {UserId}: the request to chat {ChatId} is left to the chat's admins")]
    private static partial void LogGateOff(ILogger logger, long chatId, long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot tell whether user {UserId} is in the main chat {MainChatId} ({Code}: {Error}); the user gets the check. Is the bot in that chat?")]
    private static partial void LogMembershipUnknown(ILogger logger, long mainChatId, long userId, int code, string error);
}
