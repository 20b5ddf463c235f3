using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FakeTelegram;

/// <summary>Runs one Bot API method against the world. Called under the state's lock.</summary>
internal delegate ApiResult MethodHandler(CallContext context);

/// <param name="Name">Telegram's spelling.</param>
/// <param name="RateLimited">Puts a message in a chat, so Telegram's message limits apply.</param>
/// <param name="Handle">Null for getUpdates, which the state runs itself because it may wait.</param>
/// <param name="PaidBroadcast">Takes <c>allow_paid_broadcast</c> (send*, copyMessage), so a call may count against the paid limit.</param>
internal sealed record BotMethod(string Name, bool RateLimited, MethodHandler? Handle, bool PaidBroadcast = false);

/// <summary>The Bot API methods the fake answers, with Telegram's results and error descriptions.</summary>
internal sealed partial class BotMethods
{
    public const string GetUpdates = "getUpdates";

    private const int MaxTextLength = 4096;
    private const int MaxCaptionLength = 1024;
    private const int MaxMessageIds = 100;

    /// <summary>Telegram: "a message can only be deleted if it was sent less than 48 hours ago".</summary>
    private static readonly TimeSpan MaxDeleteAge = TimeSpan.FromHours(48);

    private static readonly string[] MediaMethods =
    [
        "sendPhoto", "sendDocument", "sendVideo", "sendAnimation", "sendAudio", "sendVoice", "sendVideoNote",
        "sendSticker", "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice",
    ];

    private readonly Dictionary<string, BotMethod> methods = new(StringComparer.OrdinalIgnoreCase);
    private readonly BotWorld world;
    private readonly FakeTelegramOptions options;
    private readonly TelegramShapes shapes;

    public BotMethods(BotWorld world, FakeTelegramOptions options)
    {
        this.world = world;
        this.options = options;
        shapes = new TelegramShapes(options);

        Add("getMe", false, c => ApiResult.Ok(shapes.Me(TokenPolicy.BotId(c.Token))));
        Add("sendMessage", true, SendMessage, paidBroadcast: true);
        foreach (var media in MediaMethods)
        {
            Add(media, true, SendMedia, paidBroadcast: true);
        }

        Add("sendMediaGroup", true, SendMediaGroup, paidBroadcast: true);
        Add("copyMessage", true, CopyMessage, paidBroadcast: true);
        Add("copyMessages", true, CopyMessages);
        Add("forwardMessage", true, ForwardMessage);
        Add("editMessageText", true, EditMessage);
        Add("editMessageCaption", true, EditMessage);
        Add("editMessageReplyMarkup", true, EditMessage);
        Add("deleteMessage", false, DeleteMessage);
        Add("deleteMessages", false, DeleteMessages);
        Add("answerCallbackQuery", false, AnswerCallbackQuery);
        Add("sendChatAction", false, SendChatAction);
        Add("setMyCommands", false, SetMyCommands);
        Add("getMyCommands", false, _ => ApiResult.Ok(world.Commands is null ? new JsonArray() : JsonNode.Parse(world.Commands)));
        Add("deleteMyCommands", false, _ =>
        {
            world.Commands = null;
            return ApiResult.Ok(true);
        });
        Add("setChatMenuButton", false, SetChatMenuButton);
        Add("getChatMenuButton", false, c => ApiResult.Ok(
            world.MenuButtons.TryGetValue(c.Parameters.Long("chat_id") ?? 0, out var button) || world.MenuButtons.TryGetValue(0, out button)
                ? JsonNode.Parse(button)
                : new JsonObject { ["type"] = "commands" }));
        Add("approveChatJoinRequest", false, c => DecideJoinRequest(c, approve: true));
        Add("declineChatJoinRequest", false, c => DecideJoinRequest(c, approve: false));
        Add("getChatMember", false, GetChatMember);
        Add("getChatAdministrators", false, GetChatAdministrators);
        Add("restrictChatMember", false, RestrictChatMember);
        Add("banChatMember", false, BanChatMember);
        Add("unbanChatMember", false, UnbanChatMember);
        Add("setWebhook", false, SetWebhook);
        Add("deleteWebhook", false, DeleteWebhook);
        Add("getWebhookInfo", false, _ => ApiResult.Ok(WebhookInfo()));
        methods[GetUpdates] = new BotMethod(GetUpdates, false, null);
    }

    public bool TryGet(string name, out BotMethod method) => methods.TryGetValue(name, out method!);

    private void Add(string name, bool rateLimited, MethodHandler handle, bool paidBroadcast = false) =>
        methods[name] = new BotMethod(name, rateLimited, handle, paidBroadcast);

    private ApiResult SendMessage(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        var text = c.Parameters.String("text");
        if (string.IsNullOrWhiteSpace(text))
        {
            return ApiResult.BadRequest("message text is empty");
        }

        if (text.Length > MaxTextLength)
        {
            return ApiResult.BadRequest("message is too long");
        }

        if (ReplyTarget(c, chat, out var replyTo) is { } badReply)
        {
            return badReply;
        }

        var threadId = c.Parameters.Int("message_thread_id");
        var markup = InlineMarkup(c);
        if (TryDeliver(c, chat, text, markup, out var state, out var id, threadId) is { } refused)
        {
            return refused;
        }

        var replied = replyTo is { } target ? TelegramShapes.RepliedMessage(c, state, target, state.Message(target)) : null;
        return ApiResult.Ok(shapes.Message(c, state, id, text, isCaption: false, markup, threadId: threadId, replyTo: replied));
    }

    /// <summary>
    /// The message a send replies to: <c>reply_parameters.message_id</c>, or the older <c>reply_to_message_id</c>.
    /// A reply to a message the fake saw deleted fails unless <c>allow_sending_without_reply</c>, which sends it as
    /// no reply; a message the fake never saw is taken as existing. <c>reply_parameters.chat_id</c> is not followed.
    /// </summary>
    private ApiResult? ReplyTarget(CallContext c, ChatRef chat, out int? replyTo)
    {
        replyTo = null;
        var allowWithoutReply = c.Parameters.Bool("allow_sending_without_reply");
        if (c.Parameters["reply_parameters"] is not null)
        {
            if (c.Parameters.Structured("reply_parameters") is not JsonObject reply)
            {
                return ApiResult.BadRequest("can't parse reply parameters JSON object");
            }

            replyTo = reply["message_id"] is JsonValue id && id.TryGetValue<int>(out var messageId) ? messageId : null;
            allowWithoutReply |= reply["allow_sending_without_reply"] is JsonValue allow && allow.GetValueKind() == JsonValueKind.True;
        }
        else
        {
            replyTo = c.Parameters.Int("reply_to_message_id");
        }

        if (replyTo is { } target && world.Chats.Find(chat)?.Message(target) is { Deleted: true })
        {
            if (!allowWithoutReply)
            {
                return ApiResult.BadRequest("message to be replied not found");
            }

            replyTo = null;
        }

        return null;
    }

    private ApiResult SendMedia(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        var caption = c.Parameters.String("caption");
        if (caption?.Length > MaxCaptionLength)
        {
            return ApiResult.BadRequest("message caption is too long");
        }

        var markup = InlineMarkup(c);
        return TryDeliver(c, chat, caption, markup, out var state, out var id)
            ?? ApiResult.Ok(shapes.Message(c, state, id, caption, isCaption: true, markup));
    }

    /// <summary>One delivery for the album (its first caption), one message per item in the result, as Telegram answers.</summary>
    private ApiResult SendMediaGroup(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.Structured("media") is not JsonArray { Count: >= 1 and <= 10 } media)
        {
            return ApiResult.BadRequest("wrong number of media in the album");
        }

        var caption = media[0]?["caption"]?.GetValue<string>();
        if (TryDeliver(c, chat, caption, null, out var state, out var firstId) is { } refused)
        {
            return refused;
        }

        var messages = new JsonArray { shapes.Message(c, state, firstId, caption, isCaption: true, null) };
        for (var i = 1; i < media.Count; i++)
        {
            var itemCaption = media[i]?["caption"]?.GetValue<string>();
            var id = state.NextMessageId();
            state.Store(id, new StoredMessage(itemCaption, null, FromBot: true, SentAt: c.ReceivedAt));
            messages.Add(shapes.Message(c, state, id, itemCaption, isCaption: true, null));
        }

        return ApiResult.Ok(messages);
    }

    private ApiResult CopyMessage(CallContext c) => CopyOrForward(c, copy: true);

    private ApiResult ForwardMessage(CallContext c) => CopyOrForward(c, copy: false);

    private ApiResult CopyOrForward(CallContext c, bool copy)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (RequireChat(c, "from_chat_id", out var from) is { } invalidFrom)
        {
            return invalidFrom;
        }

        if (c.Parameters.Int("message_id") is not { } sourceId)
        {
            return ApiResult.BadRequest("message identifier is not specified");
        }

        var source = world.Chats.Find(from)?.Message(sourceId);
        if (source is { Deleted: true })
        {
            return ApiResult.BadRequest(copy ? "message to copy not found" : "message to forward not found");
        }

        // A copy may replace the caption; the text of a message the fake never saw is unknown.
        var text = (copy ? c.Parameters.String("caption") : null) ?? source?.Text;
        var markup = copy ? InlineMarkup(c) : null;
        if (TryDeliver(c, chat, text, markup, out var state, out var id) is { } refused)
        {
            return refused;
        }

        return copy
            ? ApiResult.Ok(new JsonObject { ["message_id"] = id })
            : ApiResult.Ok(shapes.Message(c, state, id, text, isCaption: false, null));
    }

    /// <summary>
    /// Copies 1 to 100 messages, in order, as one call that counts as one message towards the limits (as an album send
    /// does); sources the fake saw deleted are skipped, as Telegram skips messages it cannot copy. Answers the new
    /// ids; the call's record has the copied ids and the new ones.
    /// </summary>
    private ApiResult CopyMessages(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (RequireChat(c, "from_chat_id", out var from) is { } invalidFrom)
        {
            return invalidFrom;
        }

        if (MessageIds(c, "message_ids", requireAscending: true, out var requested) is { } badIds)
        {
            return badIds;
        }

        var sourceChat = world.Chats.Find(from);
        var sources = requested.Where(id => sourceChat?.Message(id) is not { Deleted: true }).ToList();
        if (sources.Count == 0)
        {
            return ApiResult.BadRequest("message to copy not found");
        }

        var existing = world.Chats.Find(chat);
        if (existing?.Block is { } block)
        {
            return Refusal(existing, block);
        }

        if (world.Limiter.TryAcquire(c.Token, chat, c.Now) is { } retryAfter)
        {
            return ApiResult.TooManyRequests(retryAfter);
        }

        var state = existing ?? world.Chats.GetOrAdd(chat);
        var removeCaption = c.Parameters.Bool("remove_caption");
        var created = new List<int>(sources.Count);
        string? firstText = null;
        foreach (var source in sources)
        {
            // With remove_caption a copy's text is unknown: the fake does not know whether the source's was a caption.
            var text = removeCaption ? null : sourceChat?.Message(source)?.Text;
            var id = state.NextMessageId();
            state.Store(id, new StoredMessage(text, null, FromBot: true, SentAt: c.ReceivedAt));
            if (created.Count == 0)
            {
                firstText = text;
            }

            created.Add(id);
        }

        c.DeliverMany(chat, created, sources, firstText);
        return ApiResult.Ok(new JsonArray(created.Select(id => (JsonNode?)new JsonObject { ["message_id"] = id }).ToArray()));
    }

    private ApiResult EditMessage(CallContext c)
    {
        var editsText = c.Method == "editMessageText";
        var editsCaption = c.Method == "editMessageCaption";
        var text = editsText ? c.Parameters.String("text") : editsCaption ? c.Parameters.String("caption") : null;
        if (editsText && string.IsNullOrWhiteSpace(text))
        {
            return ApiResult.BadRequest("message text is empty");
        }

        if (text?.Length > (editsText ? MaxTextLength : MaxCaptionLength))
        {
            return ApiResult.BadRequest(editsText ? "message is too long" : "message caption is too long");
        }

        var markup = InlineMarkup(c);
        if (c.Parameters.String("inline_message_id") is { Length: > 0 })
        {
            // Inline messages live in chats the bot cannot see: only the overall limit applies, and the result is true.
            return world.Limiter.TryAcquire(c.Token, null, c.Now) is { } wait ? ApiResult.TooManyRequests(wait) : ApiResult.Ok(true);
        }

        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.Int("message_id") is not { } messageId)
        {
            return ApiResult.BadRequest("message identifier is not specified");
        }

        var existing = world.Chats.Find(chat);
        var stored = existing?.Message(messageId);
        if (existing?.Block is { } block)
        {
            return Refusal(existing, block);
        }

        if (stored is { Deleted: true })
        {
            return ApiResult.BadRequest("message to edit not found");
        }

        if (stored is { FromBot: false })
        {
            return ApiResult.BadRequest("message can't be edited");
        }

        var newText = editsText || editsCaption ? text : stored?.Text;
        var newMarkup = markup?.ToJsonString();
        if (stored is not null && stored.Text == newText && stored.Markup == newMarkup)
        {
            return ApiResult.BadRequest(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
        }

        if (world.Limiter.TryAcquire(c.Token, chat, c.Now) is { } retryAfter)
        {
            return ApiResult.TooManyRequests(retryAfter);
        }

        var state = existing ?? world.Chats.GetOrAdd(chat);
        state.Store(messageId, (stored ?? new StoredMessage(null, null, FromBot: true)) with { Text = newText, Markup = newMarkup, Edited = true });
        c.Edited(messageId, newText);
        return ApiResult.Ok(shapes.Message(c, state, messageId, newText, isCaption: editsCaption, markup, edited: true));
    }

    private ApiResult DeleteMessage(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.Int("message_id") is not { } messageId)
        {
            return ApiResult.BadRequest("message identifier is not specified");
        }

        var state = world.Chats.GetOrAdd(chat);
        if (BotAbsent(state) is { } refused)
        {
            return refused;
        }

        if (Undeletable(c, state, messageId) is { } problem)
        {
            return ApiResult.BadRequest(problem);
        }

        Delete(state, messageId);
        c.Deleted([messageId]);
        return ApiResult.Ok(true);
    }

    /// <summary>Deletes what may be deleted of 1 to 100 messages and skips the rest (gone, unknown, not allowed), as Telegram does.</summary>
    private ApiResult DeleteMessages(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (MessageIds(c, "message_ids", requireAscending: false, out var ids) is { } badIds)
        {
            return badIds;
        }

        var state = world.Chats.GetOrAdd(chat);
        if (BotAbsent(state) is { } refused)
        {
            return refused;
        }

        var deleted = ids.Distinct().Where(id => Undeletable(c, state, id) is null).ToList();
        deleted.ForEach(id => Delete(state, id));
        c.Deleted(deleted);
        return ApiResult.Ok(true);
    }

    /// <summary>
    /// Why a message may not be deleted, or null. Gone: deleted through the fake, or an id the chat never reached (ids
    /// only grow). Not allowed: in a group without the right, anything but the bot's own; anything the fake delivered
    /// 48 hours ago or more (Telegram's limit; a message seen in an update has no known age and is not held to it).
    /// </summary>
    private static string? Undeletable(CallContext c, ChatState state, int messageId)
    {
        var stored = state.Message(messageId);
        if (stored is { Deleted: true })
        {
            return "message to delete not found";
        }

        // Without the right, a bot deletes only its own messages in a group; the fake knows those it sent.
        if (state.EffectiveType != "private" && !state.BotCanDeleteMessages && stored is not { FromBot: true })
        {
            return "message can't be deleted";
        }

        if (stored is null && messageId > state.LastMessageId)
        {
            return "message to delete not found";
        }

        return stored?.SentAt is { } sent && c.ReceivedAt - sent >= MaxDeleteAge ? "message can't be deleted" : null;
    }

    private static void Delete(ChatState state, int messageId) =>
        state.Store(messageId, (state.Message(messageId) ?? new StoredMessage(null, null, FromBot: true)) with { Deleted = true });

    /// <summary>
    /// A list of 1 to 100 message ids (copyMessages: strictly increasing, as Telegram requires). The wording of these
    /// refusals is the fake's own; Telegram answers them with a 400 too.
    /// </summary>
    private static ApiResult? MessageIds(CallContext c, string name, bool requireAscending, out List<int> ids)
    {
        ids = [];
        if (c.Parameters.Structured(name) is not JsonArray array || array.Count == 0)
        {
            return ApiResult.BadRequest("message identifiers are not specified");
        }

        if (array.Count > MaxMessageIds)
        {
            return ApiResult.BadRequest("too many message identifiers specified");
        }

        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<int>(out var id) || id <= 0)
            {
                return ApiResult.BadRequest("message identifier is invalid");
            }

            if (requireAscending && ids.Count > 0 && id <= ids[^1])
            {
                return ApiResult.BadRequest("message identifiers must be in strictly increasing order");
            }

            ids.Add(id);
        }

        return null;
    }

    private static ApiResult AnswerCallbackQuery(CallContext c) =>
        c.Parameters.String("callback_query_id") is { Length: > 0 }
            ? ApiResult.Ok(true)
            : ApiResult.BadRequest("query is too old and response timeout expired or query ID is invalid");

    private ApiResult SendChatAction(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.String("action") is not { Length: > 0 })
        {
            return ApiResult.BadRequest("wrong parameter action in request");
        }

        return world.Chats.Find(chat) is { Block: { } block } state ? Refusal(state, block) : ApiResult.Ok(true);
    }

    private ApiResult SetMyCommands(CallContext c)
    {
        if (c.Parameters.Structured("commands") is not JsonArray commands)
        {
            return ApiResult.BadRequest("parameter \"commands\" is required");
        }

        world.Commands = commands.ToJsonString();
        return ApiResult.Ok(true);
    }

    /// <summary>
    /// As Telegram: a private chat's (or, without chat_id, the default) menu button; a web_app button needs a text and an
    /// https url.
    /// </summary>
    private ApiResult SetChatMenuButton(CallContext c)
    {
        var button = c.Parameters.Structured("menu_button") as JsonObject ?? new JsonObject { ["type"] = "default" };
        var type = button["type"]?.GetValue<string>();
        if (type is not ("default" or "commands" or "web_app"))
        {
            return ApiResult.BadRequest("BUTTON_TYPE_INVALID");
        }

        if (type == "web_app" && (string.IsNullOrEmpty(button["text"]?.GetValue<string>())
            || button["web_app"]?["url"]?.GetValue<string>() is not { } url || !url.StartsWith("https://", StringComparison.Ordinal)))
        {
            return ApiResult.BadRequest("BUTTON_URL_INVALID");
        }

        world.MenuButtons[c.Parameters.Long("chat_id") ?? 0] = button.ToJsonString();
        return ApiResult.Ok(true);
    }

    private ApiResult DecideJoinRequest(CallContext c, bool approve)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.Long("user_id") is not { } userId)
        {
            return ApiResult.BadRequest("USER_ID_INVALID");
        }

        var state = world.Chats.GetOrAdd(chat);
        if (BotAbsent(state) is { } refused)
        {
            return refused;
        }

        if (state.TracksJoinRequests && !state.PendingJoinRequests.Remove(userId))
        {
            return ApiResult.BadRequest(
                approve && ChatMemberStatus.IsParticipant(state.MemberStatus(userId)) ? "USER_ALREADY_PARTICIPANT" : "HIDE_REQUESTER_MISSING");
        }

        if (approve)
        {
            state.SetMember(userId, ChatMemberStatus.Member);
        }

        return ApiResult.Ok(true);
    }

    private ApiResult GetChatMember(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.Long("user_id") is not { } userId)
        {
            return ApiResult.BadRequest("invalid user_id specified");
        }

        var state = world.Chats.Find(chat);
        if (BotAbsent(state) is { } refused)
        {
            return refused;
        }

        if (state is not { Known: true })
        {
            return ApiResult.BadRequest("chat not found");
        }

        return ApiResult.Ok(userId == TokenPolicy.BotId(c.Token)
            ? shapes.BotMember(userId, state)
            : TelegramShapes.ChatMember(userId, state.Member(userId)));
    }

    private ApiResult SetWebhook(CallContext c)
    {
        var url = c.Parameters.String("url") ?? "";
        if (url.Length > 0 && WebhookUrlProblem(url) is { } problem)
        {
            return ApiResult.BadRequest(problem);
        }

        var secret = c.Parameters.String("secret_token");
        if (secret is not null && !SecretToken().IsMatch(secret))
        {
            return ApiResult.BadRequest("secret token contains unallowed characters");
        }

        var maxConnections = c.Parameters.Int("max_connections") ?? WebhookSettings.DefaultMaxConnections;
        if (c.Parameters.Bool("drop_pending_updates"))
        {
            world.Updates.Clear();
        }

        var webhook = world.Webhook;
        if (url.Length == 0)
        {
            var wasSet = webhook.IsSet;
            webhook.Clear();
            return ApiResult.Ok(true, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
        }

        var unchanged = webhook.Url == url;
        webhook.Url = url;
        webhook.SecretToken = secret;
        webhook.MaxConnections = Math.Clamp(maxConnections, 1, 100);

        // Telegram: "If not specified, the previous setting will be used."
        if (c.Parameters.Structured("allowed_updates") is JsonArray allowed)
        {
            webhook.AllowedUpdates = allowed.Select(a => a?.GetValue<string>() ?? "").ToList();
        }

        world.Updates.Terminate("Conflict: terminated by setWebhook request");
        return ApiResult.Ok(true, unchanged ? "Webhook is already set" : "Webhook was set");
    }

    private ApiResult DeleteWebhook(CallContext c)
    {
        if (c.Parameters.Bool("drop_pending_updates"))
        {
            world.Updates.Clear();
        }

        var wasSet = world.Webhook.IsSet;
        world.Webhook.Clear();
        return ApiResult.Ok(true, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
    }

    private JsonObject WebhookInfo()
    {
        var webhook = world.Webhook;
        var info = new JsonObject
        {
            ["url"] = webhook.Url,
            ["has_custom_certificate"] = false,
            ["pending_update_count"] = world.Updates.Count,
        };
        if (webhook.IsSet)
        {
            info["max_connections"] = webhook.MaxConnections;
            info["ip_address"] = "127.0.0.1";
            if (webhook.AllowedUpdates is { } allowed)
            {
                info["allowed_updates"] = new JsonArray(allowed.Select(a => (JsonNode?)a).ToArray());
            }
        }

        return info;
    }

    private string? WebhookUrlProblem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return "invalid webhook URL specified";
        }

        if (!options.ValidateWebhookUrls)
        {
            return null;
        }

        if (uri.Scheme != "https")
        {
            return "bad webhook: An HTTPS URL must be provided for webhook";
        }

        return uri.Port is 443 or 80 or 88 or 8443 ? null : "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443";
    }

    /// <summary>Checks the chat's block and the rate limits, then puts a new message in it.</summary>
    private ApiResult? TryDeliver(
        CallContext c, ChatRef chat, string? text, JsonObject? markup, out ChatState state, out int messageId, int? threadId = null)
    {
        state = null!;
        messageId = 0;
        var existing = world.Chats.Find(chat);
        if (existing?.Block is { } block)
        {
            return Refusal(existing, block);
        }

        // A paid call counts against the paid overall limit instead of the 30/s one; the chat's limit holds either way.
        if (world.Limiter.TryAcquire(c.Token, chat, c.Now, c.Paid) is { } retryAfter)
        {
            return ApiResult.TooManyRequests(retryAfter);
        }

        state = existing ?? world.Chats.GetOrAdd(chat);
        messageId = state.NextMessageId();
        state.Store(messageId, new StoredMessage(text, markup?.ToJsonString(), FromBot: true, ThreadId: threadId, SentAt: c.ReceivedAt));
        c.Deliver(chat, messageId, text, threadId);
        return null;
    }

    private static ApiResult Refusal(ChatState chat, ChatBlock block) => block switch
    {
        ChatBlock.BlockedByUser => ApiResult.Forbidden("bot was blocked by the user"),
        ChatBlock.UserDeactivated => ApiResult.Forbidden("user is deactivated"),
        _ => chat.EffectiveType switch
        {
            "channel" => ApiResult.Forbidden("bot is not a member of the channel chat"),
            "supergroup" => ApiResult.Forbidden("bot was kicked from the supergroup chat"),
            _ => ApiResult.Forbidden("bot was kicked from the group chat"),
        },
    };

    /// <summary>The bot is no longer in the group (<see cref="ChatBlock.Kicked"/>, or blocked): Telegram refuses every call there.</summary>
    private static ApiResult? BotAbsent(ChatState? state) =>
        state is { Block: { } block } && state.EffectiveType != "private" ? Refusal(state, block) : null;

    private static ApiResult? RequireChat(CallContext c, string name, out ChatRef chat)
    {
        chat = default;
        var node = c.Parameters[name];
        if (node is null || (node is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0))
        {
            return ApiResult.BadRequest(name + " is empty");
        }

        return ChatRef.TryParse(node, out chat) ? null : ApiResult.BadRequest("chat not found");
    }

    /// <summary>The reply_markup when it is an inline keyboard: the only kind Telegram echoes in the message.</summary>
    private static JsonObject? InlineMarkup(CallContext c) =>
        c.Parameters.Structured("reply_markup") is JsonObject markup && markup["inline_keyboard"] is JsonArray ? markup : null;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,256}$", RegexOptions.CultureInvariant)]
    private static partial Regex SecretToken();
}
