using System.Globalization;
using System.Text;
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
/// The gate run by each chat's admins from inside Telegram. <c>/settings</c> in a group (or in private, choosing among
/// the chats the caller administers) opens a menu: gate on/off, the check's kind, attempts, time, the log chat and the
/// chat's questions. <c>/gatequestion</c> adds a question, <c>/setwelcome</c> sets the welcome per language,
/// <c>/gatelog</c> run in a chat makes it the log chat. Only the chat's admins may open the menu or press it
/// (<see cref="GateChatAdmins"/>: asked of Telegram at every press); every change is stored with who made it
/// (<see cref="GateSettings"/>) and posted to the log chat. The log chat's <b>Approve anyway</b> lets a declined user in.
/// </summary>
public sealed partial class GateAdminHandler(
    Texts texts, IOptionsMonitor<JoinGateOptions> gateOptions, GateChatAdmins admins, JoinMetrics metrics, ILogger<GateAdminHandler> logger) : IUpdateHandler
{
    public const string CallbackPrefix = "gs:";
    public const int MaxQuestions = 20;

    /// <summary>The times a check may be given, in seconds (the menu's − and + step through them).</summary>
    public static readonly int[] DeadlineSteps = [60, 120, 300, 600, 1800, 3600, 4 * 3600, 86400];

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.TryGetCommand(out var message, out var command) && message.From is { } from)
        {
            switch (command.Name)
            {
                case "settings":
                    await SettingsAsync(context, message, from);
                    return true;
                case "gatequestion":
                    await AddQuestionAsync(context, message, from, command.Argument);
                    return true;
                case "setwelcome":
                    await SetWelcomeAsync(context, message, from, command.Argument);
                    return true;
                case "gatelog":
                    await SetLogAsync(context, message, from, command.Argument);
                    return true;
                default:
                    return false;
            }
        }

        if (context.Update is { Type: UpdateType.CallbackQuery, CallbackQuery: { Data: { } data } query })
        {
            if (data.StartsWith(CallbackPrefix, StringComparison.Ordinal))
            {
                await PressAsync(context, query, data[CallbackPrefix.Length..]);
                return true;
            }

            if (data.StartsWith(GateLog.CallbackPrefix, StringComparison.Ordinal))
            {
                await LogPressAsync(context, query, data[GateLog.CallbackPrefix.Length..]);
                return true;
            }
        }

        return false;
    }

    private async Task SettingsAsync(UpdateContext context, Message message, User from)
    {
        var language = await UserDirectory.LanguageAsync(context, from);
        if (message.Chat.Type != ChatType.Private)
        {
            if (!await admins.MayManageAsync(context, message.Chat.Id, from.Id))
            {
                context.Reply(message, texts.Get(language, "JoinGate.settings_refused"));
                return;
            }

            var gate = await GateSettings.GetAsync(context.Db, message.Chat.Id, gateOptions.CurrentValue, context.CancellationToken);
            await context.Outbox.EnqueueAsync(
                new SendMessageRequest
                {
                    ChatId = message.Chat.Id,
                    Text = MenuText(language, gate, GateLog.Title(message.Chat)),
                    ReplyMarkup = Menu(language, gate),
                    ReplyParameters = new ReplyParameters { MessageId = message.MessageId, AllowSendingWithoutReply = true },
                    MessageThreadId = message.IsTopicMessage ? message.MessageThreadId : null,
                },
                message.Chat.Id, cancellationToken: context.CancellationToken);
            return;
        }

        // In private: the chats the caller administers, asked of Telegram one by one.
        var chats = new List<long>();
        foreach (var chat in await GateSettings.KnownChatsAsync(context.Db, gateOptions.CurrentValue, context.CancellationToken))
        {
            if (await admins.MayManageAsync(context, chat, from.Id))
            {
                chats.Add(chat);
            }
        }

        if (chats.Count == 0)
        {
            context.Reply(message, texts.Get(language, "JoinGate.settings_no_chats"));
            return;
        }

        var buttons = new List<InlineKeyboardButton[]>();
        foreach (var chat in chats)
        {
            buttons.Add([InlineKeyboardButton.WithCallbackData(await TitleAsync(context, chat), Data(chat, "menu"))]);
        }

        context.Reply(message, texts.Get(language, "JoinGate.settings_choose"), new InlineKeyboardMarkup(buttons));
    }

    private async Task PressAsync(UpdateContext context, CallbackQuery query, string data)
    {
        var language = await UserDirectory.LanguageAsync(context, query.From);
        var parts = data.Split(':');
        if (parts.Length is < 2 or > 3 || !long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var chatId) || query.Message is not { } menu)
        {
            context.Answer(query);
            return;
        }

        if (!await admins.MayManageAsync(context, chatId, query.From.Id))
        {
            context.Answer(query, texts.Get(language, "JoinGate.settings_refused"), alert: true);
            return;
        }

        var options = gateOptions.CurrentValue;
        var gate = await GateSettings.GetAsync(context.Db, chatId, options, context.CancellationToken, forUpdate: true);
        var argument = parts.Length == 3 ? parts[2] : null;
        var change = (parts[1], argument) switch
        {
            ("toggle", _) => ("enabled", GateSettings.ToText(!gate.Enabled), GateSettings.ToText(gate.Enabled)),
            ("kind", { } kind) when GateCheckKind.All.Contains(kind) && kind != gate.CheckKind => ("check_kind", kind, gate.CheckKind),
            ("att", "-") when gate.Attempts > 1 => ("attempts", GateSettings.ToText(gate.Attempts - 1), GateSettings.ToText(gate.Attempts)),
            ("att", "+") when gate.Attempts < 10 => ("attempts", GateSettings.ToText(gate.Attempts + 1), GateSettings.ToText(gate.Attempts)),
            ("dl", "-") when Step(gate.DeadlineSeconds, -1) is { } shorter => ("deadline_seconds", GateSettings.ToText(shorter), GateSettings.ToText(gate.DeadlineSeconds)),
            ("dl", "+") when Step(gate.DeadlineSeconds, +1) is { } longer => ("deadline_seconds", GateSettings.ToText(longer), GateSettings.ToText(gate.DeadlineSeconds)),
            ("logoff", _) when gate.LogChatId is not null => ("log_chat_id", "0", gate.LogChatId.Value.ToString(CultureInfo.InvariantCulture)),
            ("qdel", { } index) when int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < gate.Questions.Count =>
                ("questions", GateSettings.ToJson([.. gate.Questions.Where((_, n) => n != i)]), GateSettings.ToJson(gate.Questions)),
            _ => ((string, string, string)?)null,
        };

        var view = parts[1] is "q" or "qdel" ? "questions" : "menu";
        if (parts[1] == "close")
        {
            context.Answer(query);
            await context.Outbox.EnqueueAsync(new DeleteMessageRequest { ChatId = menu.Chat.Id, MessageId = menu.MessageId }, menu.Chat.Id, cancellationToken: context.CancellationToken);
            return;
        }

        if (change is var (setting, value, before))
        {
            await GateSettings.ChangeAsync(context.Db, chatId, query.From.Id, setting, value, before, context.CancellationToken);
            gate = await GateSettings.GetAsync(context.Db, chatId, options, context.CancellationToken);
            await LogChangeAsync(context, gate, query.From, setting, setting is "questions" ? GateSettings.ToText(gate.Questions.Count) : value);
        }

        context.Answer(query, change is null ? null : texts.Get(language, "JoinGate.settings_saved"));
        var title = menu.Chat.Id == chatId ? GateLog.Title(menu.Chat) : await TitleAsync(context, chatId);
        var (text, keyboard) = view == "questions"
            ? (QuestionsText(language, gate, title), QuestionsMenu(language, gate))
            : (MenuText(language, gate, title), Menu(language, gate));
        await context.Outbox.EnqueueAsync(
            new EditMessageTextRequest { ChatId = menu.Chat.Id, MessageId = menu.MessageId, Text = text, ReplyMarkup = keyboard },
            menu.Chat.Id, cancellationToken: context.CancellationToken);
    }

    /// <summary>/gatequestion [CHAT] question | right | wrong | wrong ...: in the group itself (its message is deleted, the answers are not for the group's eyes) or in private with the chat's id first.</summary>
    private async Task AddQuestionAsync(UpdateContext context, Message message, User from, string argument)
    {
        var language = await UserDirectory.LanguageAsync(context, from);
        if (await TargetAsync(context, message, from, language, argument) is not var (chatId, rest))
        {
            return;
        }

        if (GateChecks.ParseQuestion(rest, out var problem) is not { } question)
        {
            context.Reply(message, texts.Get(language, problem!));
            return;
        }

        var gate = await GateSettings.GetAsync(context.Db, chatId, gateOptions.CurrentValue, context.CancellationToken, forUpdate: true);
        if (gate.Questions.Count >= MaxQuestions)
        {
            context.Reply(message, texts.Format(language, "JoinGate.question_limit", ("max", MaxQuestions)));
            return;
        }

        var questions = gate.Questions.Append(question).ToList();
        await GateSettings.ChangeAsync(context.Db, chatId, from.Id, "questions", GateSettings.ToJson(questions), GateSettings.ToJson(gate.Questions), context.CancellationToken);
        await LogChangeAsync(context, gate, from, "questions", GateSettings.ToText(questions.Count));
        var saved = texts.Format(language, "JoinGate.question_added", ("count", questions.Count));
        if (message.Chat.Type != ChatType.Private)
        {
            // The answers were written in the group: the command goes, the confirmation says nothing of them.
            await context.Outbox.EnqueueAsync(new DeleteMessageRequest { ChatId = message.Chat.Id, MessageId = message.MessageId }, message.Chat.Id, cancellationToken: context.CancellationToken);
            context.Send(message.Chat.Id, saved);
            return;
        }

        context.Reply(message, saved);
    }

    /// <summary>/setwelcome [CHAT] LANGUAGE TEXT (or "off"): the text a user gets once let in.</summary>
    private async Task SetWelcomeAsync(UpdateContext context, Message message, User from, string argument)
    {
        var language = await UserDirectory.LanguageAsync(context, from);
        if (await TargetAsync(context, message, from, language, argument) is not var (chatId, rest))
        {
            return;
        }

        var split = rest.IndexOfAny([' ', '\n']);
        var welcomeLanguage = split < 0 ? rest : rest[..split];
        var text = split < 0 ? "" : rest[(split + 1)..].Trim();
        if (!Texts.Languages.Contains(welcomeLanguage) || text.Length == 0 || text.Length > 1000)
        {
            context.Reply(message, texts.Format(language, "JoinGate.welcome_format", ("languages", string.Join(", ", Texts.Languages))));
            return;
        }

        var gate = await GateSettings.GetAsync(context.Db, chatId, gateOptions.CurrentValue, context.CancellationToken, forUpdate: true);
        var welcome = new Dictionary<string, string>(gate.Welcome);
        if (text == "off")
        {
            welcome.Remove(welcomeLanguage);
        }
        else
        {
            welcome[welcomeLanguage] = text;
        }

        await GateSettings.ChangeAsync(context.Db, chatId, from.Id, "welcome", GateSettings.ToJson(welcome), GateSettings.ToJson(gate.Welcome), context.CancellationToken);
        await LogChangeAsync(context, gate, from, "welcome", welcomeLanguage);
        context.Reply(message, texts.Get(language, "JoinGate.settings_saved"));
    }

    /// <summary>/gatelog CHAT, run in the chat that is to receive the log (or "/gatelog CHAT off"); the caller must administer CHAT.</summary>
    private async Task SetLogAsync(UpdateContext context, Message message, User from, string argument)
    {
        var language = await UserDirectory.LanguageAsync(context, from);
        var words = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is < 1 or > 2 || !long.TryParse(words[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var chatId)
            || (words.Length == 2 && words[1] != "off"))
        {
            context.Reply(message, texts.Get(language, "JoinGate.gatelog_format"));
            return;
        }

        if (!await admins.MayManageAsync(context, chatId, from.Id)
            || (message.Chat.Type != ChatType.Private && !await admins.MayManageAsync(context, message.Chat.Id, from.Id)))
        {
            context.Reply(message, texts.Get(language, "JoinGate.settings_refused"));
            return;
        }

        var gate = await GateSettings.GetAsync(context.Db, chatId, gateOptions.CurrentValue, context.CancellationToken, forUpdate: true);
        var logChat = words.Length == 2 ? 0 : message.Chat.Id;
        await GateSettings.ChangeAsync(
            context.Db, chatId, from.Id, "log_chat_id", logChat.ToString(CultureInfo.InvariantCulture), gate.LogChatId?.ToString(CultureInfo.InvariantCulture),
            context.CancellationToken);
        var changed = gate with { LogChatId = logChat == 0 ? null : logChat };
        await LogChangeAsync(context, logChat == 0 ? gate : changed, from, "log_chat_id", logChat.ToString(CultureInfo.InvariantCulture));
        context.Reply(message, texts.Get(language, "JoinGate.settings_saved"));
    }

    /// <summary>Approve anyway, pressed in a log chat: a declined (or still pending) user of the gated chat is let in.</summary>
    private async Task LogPressAsync(UpdateContext context, CallbackQuery query, string data)
    {
        var language = await UserDirectory.LanguageAsync(context, query.From);
        var parts = data.Split(':');
        if (parts is [var action and ("raid-approve" or "raid-decline"), var chat]
            && long.TryParse(chat, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var raidChat))
        {
            await RaidPressAsync(context, query, language, raidChat, approve: action == "raid-approve");
            return;
        }

        if (parts is not ["approve", var id] || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var requestId)
            || await JoinDecisions.LockAsync(context.Db, requestId, context.CancellationToken) is not { } request)
        {
            context.Answer(query);
            return;
        }

        if (!await admins.MayManageAsync(context, request.ChatId, query.From.Id))
        {
            context.Answer(query, texts.Get(language, "JoinGate.settings_refused"), alert: true);
            return;
        }

        var options = gateOptions.CurrentValue;
        var gate = await GateSettings.GetAsync(context.Db, request.ChatId, options, context.CancellationToken);
        var title = request.ChatTitle ?? request.ChatId.ToString(CultureInfo.InvariantCulture);
        var userLanguage = request.Language ?? Texts.English;
        if (request.State == JoinDecisions.Pending)
        {
            var decision = await JoinDecisions.DecideAsync(
                context.Db, context.Outbox, requestId, approve: true, JoinReason.Admin, context.CancellationToken, decidedBy: query.From.Id);
            if (decision is not null)
            {
                metrics.Decided(approved: true, JoinReason.Admin);
            }
        }
        else if (request.State == JoinDecisions.Declined && await JoinDecisions.OverrideAsync(context.Db, requestId, query.From.Id, context.CancellationToken) == 1)
        {
            // Telegram keeps no declined request to approve and the removed joiner is already free to come back: their next
            // request or join within a week is let in without a check.
            await JoinDecisions.SetVerdictAsync(context.Db, request.ChatId, request.UserId, "allow", TimeSpan.FromDays(7), context.CancellationToken);
            context.Send(request.UserChatId, texts.Format(userLanguage, "JoinGate.allowed_user", ("chat", title)));
            metrics.Decided(approved: true, JoinReason.Admin);
        }
        else
        {
            context.Answer(query, texts.Get(language, "JoinGate.already_decided"));
            return;
        }

        LogOverride(logger, requestId, request.ChatId, request.UserId, query.From.Id);
        context.Answer(query, texts.Get(language, "JoinGate.settings_saved"));
        if (query.Message is { } line)
        {
            var text = texts.Format(Texts.English, "JoinGate.log_overridden",
                ("user", GateLog.Mention(request.UserId)), ("chat", GateLog.Html(title)), ("admin", GateLog.Mention(query.From.Id, query.From.FirstName)), ("id", requestId));
            await context.Outbox.EnqueueAsync(
                new EditMessageTextRequest { ChatId = line.Chat.Id, MessageId = line.MessageId, Text = text, ParseMode = ParseMode.Html },
                line.Chat.Id, OutboxPriority.Bulk, context.CancellationToken);
        }
    }

    /// <summary>
    /// Approve all held (the joins held during the chat's raid are let in, a batch per press) or Decline all held (the raid
    /// ends now, and the sweep declines what it held). Only the chat's admins.
    /// </summary>
    private async Task RaidPressAsync(UpdateContext context, CallbackQuery query, string language, long chatId, bool approve)
    {
        if (!await admins.MayManageAsync(context, chatId, query.From.Id))
        {
            context.Answer(query, texts.Get(language, "JoinGate.settings_refused"), alert: true);
            return;
        }

        var gate = await GateSettings.GetAsync(context.Db, chatId, gateOptions.CurrentValue, context.CancellationToken);
        string line;
        if (approve)
        {
            var approved = 0;
            foreach (var requestId in await GateRaids.LockHeldAsync(context.Db, chatId, HeldBatch, context.CancellationToken))
            {
                if (await JoinDecisions.DecideAsync(
                    context.Db, context.Outbox, requestId, approve: true, JoinReason.Admin, context.CancellationToken, decidedBy: query.From.Id) is not null)
                {
                    metrics.Decided(approved: true, JoinReason.Admin);
                    approved++;
                }
            }

            line = texts.Format(Texts.English, "JoinGate.log_raid_approved", ("admin", GateLog.Mention(query.From.Id, query.From.FirstName)), ("count", approved), ("chat", chatId));
        }
        else
        {
            await GateRaids.EndAsync(context.Db, chatId, context.CancellationToken);
            line = texts.Format(Texts.English, "JoinGate.log_raid_declined", ("admin", GateLog.Mention(query.From.Id, query.From.FirstName)), ("chat", chatId));
        }

        context.Answer(query, texts.Get(language, "JoinGate.settings_saved"));
        await GateLog.LineAsync(context.Outbox, gate, line, context.CancellationToken);
    }

    /// <summary>Held joins let in per press of Approve all held: a transaction of bounded size; press again for more.</summary>
    public const int HeldBatch = 500;

    /// <summary>The chat a command is about: the group it is sent in, or in private the chat id given first. Null (and the caller told why) when the caller may not manage it.</summary>
    private async Task<(long ChatId, string Text)?> TargetAsync(UpdateContext context, Message message, User from, string language, string argument)
    {
        var chatId = message.Chat.Id;
        var rest = argument;
        if (message.Chat.Type == ChatType.Private)
        {
            var split = argument.IndexOfAny([' ', '\n']);
            if (split < 0 || !long.TryParse(argument[..split], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out chatId))
            {
                context.Reply(message, texts.Get(language, "JoinGate.private_needs_chat"));
                return null;
            }

            rest = argument[(split + 1)..].Trim();
        }

        if (!await admins.MayManageAsync(context, chatId, from.Id))
        {
            context.Reply(message, texts.Get(language, "JoinGate.settings_refused"));
            return null;
        }

        return (chatId, rest);
    }

    private Task LogChangeAsync(UpdateContext context, ChatGate gate, User admin, string setting, string value) =>
        GateLog.SettingAsync(context.Outbox, texts, gate, admin.Id, admin.FirstName, setting, value, context.CancellationToken);

    private string MenuText(string language, ChatGate gate, string title)
    {
        var text = new StringBuilder(texts.Format(language, "JoinGate.settings_title", ("chat", title)));
        text.Append("\n\n").Append(texts.Format(language, "JoinGate.settings_summary",
            ("state", texts.Get(language, gate.Enabled ? "JoinGate.settings_on" : "JoinGate.settings_off")),
            ("kind", texts.Get(language, $"JoinGate.kind_{gate.CheckKind}")),
            ("attempts", gate.Attempts),
            ("minutes", Math.Max(1, gate.DeadlineSeconds / 60)),
            ("questions", gate.Questions.Count),
            ("log", gate.LogChatId?.ToString(CultureInfo.InvariantCulture) ?? "—"),
            ("welcome", gate.Welcome.Count == 0 ? "—" : string.Join(", ", gate.Welcome.Keys.Order()))));
        if (gate.PausedReason is { } paused)
        {
            text.Append("\n\n").Append(texts.Format(language, "JoinGate.settings_paused", ("reason", paused)));
        }

        text.Append("\n\n").Append(texts.Get(language, "JoinGate.settings_hint"));
        return text.ToString();
    }

    private InlineKeyboardMarkup Menu(string language, ChatGate gate)
    {
        var chat = gate.ChatId;
        string Mark(bool on, string key) => (on ? "● " : "") + texts.Get(language, key);
        List<InlineKeyboardButton[]> rows =
        [
            [InlineKeyboardButton.WithCallbackData(texts.Get(language, gate.Enabled ? "JoinGate.settings_turn_off" : "JoinGate.settings_turn_on"), Data(chat, "toggle"))],
            [.. GateCheckKind.All.Select(k => InlineKeyboardButton.WithCallbackData(Mark(gate.CheckKind == k, $"JoinGate.kind_{k}"), Data(chat, "kind", k)))],
            [
                InlineKeyboardButton.WithCallbackData("−", Data(chat, "att", "-")),
                InlineKeyboardButton.WithCallbackData(texts.Format(language, "JoinGate.settings_attempts", ("attempts", gate.Attempts)), Data(chat, "menu")),
                InlineKeyboardButton.WithCallbackData("+", Data(chat, "att", "+")),
            ],
            [
                InlineKeyboardButton.WithCallbackData("−", Data(chat, "dl", "-")),
                InlineKeyboardButton.WithCallbackData(texts.Format(language, "JoinGate.settings_minutes", ("minutes", Math.Max(1, gate.DeadlineSeconds / 60))), Data(chat, "menu")),
                InlineKeyboardButton.WithCallbackData("+", Data(chat, "dl", "+")),
            ],
            [InlineKeyboardButton.WithCallbackData(texts.Format(language, "JoinGate.settings_questions", ("count", gate.Questions.Count)), Data(chat, "q"))],
        ];
        if (gate.LogChatId is not null)
        {
            rows.Add([InlineKeyboardButton.WithCallbackData(texts.Get(language, "JoinGate.settings_log_off"), Data(chat, "logoff"))]);
        }

        rows.Add([InlineKeyboardButton.WithCallbackData(texts.Get(language, "JoinGate.settings_close"), Data(chat, "close"))]);
        return new InlineKeyboardMarkup(rows);
    }

    private string QuestionsText(string language, ChatGate gate, string title)
    {
        var text = new StringBuilder(texts.Format(language, "JoinGate.questions_title", ("chat", title)));
        for (var i = 0; i < gate.Questions.Count; i++)
        {
            var q = gate.Questions[i];
            text.Append("\n\n").Append(i + 1).Append(". ").Append(q.Question).Append("\n✓ ").Append(q.Right).Append("\n✗ ").Append(string.Join(" · ", q.Wrong));
        }

        text.Append("\n\n").Append(texts.Get(language, "JoinGate.questions_hint"));
        return text.ToString();
    }

    private InlineKeyboardMarkup QuestionsMenu(string language, ChatGate gate)
    {
        var rows = gate.Questions
            .Select((_, i) => InlineKeyboardButton.WithCallbackData($"✗ {i + 1}", Data(gate.ChatId, "qdel", i.ToString(CultureInfo.InvariantCulture))))
            .Chunk(5).Select(r => r.ToArray()).ToList();
        rows.Add([InlineKeyboardButton.WithCallbackData(texts.Get(language, "JoinGate.settings_back"), Data(gate.ChatId, "menu"))]);
        return new InlineKeyboardMarkup(rows);
    }

    /// <summary>The next (or previous) allowed check time from <paramref name="seconds"/>; null at either end.</summary>
    public static int? Step(int seconds, int direction)
    {
        var next = direction > 0 ? DeadlineSteps.FirstOrDefault(s => s > seconds) : DeadlineSteps.LastOrDefault(s => s < seconds);
        return next == 0 ? null : next;
    }

    private static string Data(long chatId, string action, string? argument = null) =>
        CallbackPrefix + chatId.ToString(CultureInfo.InvariantCulture) + ":" + action + (argument is null ? "" : ":" + argument);

    private static async Task<string> TitleAsync(UpdateContext context, long chatId)
    {
        try
        {
            return GateLog.Title(await context.Reader.GetChat(chatId, context.CancellationToken));
        }
        catch (ApiRequestException)
        {
            return chatId.ToString(CultureInfo.InvariantCulture);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId}: approved anyway by admin {AdminId}")]
    private static partial void LogOverride(ILogger logger, long requestId, long chatId, long userId, long adminId);
}
