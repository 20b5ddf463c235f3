using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FakeTelegram;

/// <summary>Runs one Bot API method against the world. Called under the state's lock.</summary>
internal delegate ApiResult MethodHandler(CallContext context);

/// <param name="Name">Telegram's spelling.</param>
/// <param name="RateLimited">Puts a message in a chat, so Telegram's message limits apply.</param>
/// <param name="Handle">Null for getUpdates, which the state runs itself because it may wait.</param>
internal sealed record BotMethod(string Name, bool RateLimited, MethodHandler? Handle);

/// <summary>The Bot API methods the fake answers, with Telegram's results and error descriptions.</summary>
internal sealed partial class BotMethods
{
    public const string GetUpdates = "getUpdates";

    private const int MaxTextLength = 4096;
    private const int MaxCaptionLength = 1024;

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
        Add("sendMessage", true, SendMessage);
        foreach (var media in MediaMethods)
        {
            Add(media, true, SendMedia);
        }

        Add("sendMediaGroup", true, SendMediaGroup);
        Add("copyMessage", true, CopyMessage);
        Add("forwardMessage", true, ForwardMessage);
        Add("editMessageText", true, EditMessage);
        Add("editMessageCaption", true, EditMessage);
        Add("editMessageReplyMarkup", true, EditMessage);
        Add("deleteMessage", false, DeleteMessage);
        Add("answerCallbackQuery", false, AnswerCallbackQuery);
        Add("sendChatAction", false, SendChatAction);
        Add("setMyCommands", false, SetMyCommands);
        Add("getMyCommands", false, _ => ApiResult.Ok(world.Commands is null ? new JsonArray() : JsonNode.Parse(world.Commands)));
        Add("deleteMyCommands", false, _ =>
        {
            world.Commands = null;
            return ApiResult.Ok(true);
        });
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

    private void Add(string name, bool rateLimited, MethodHandler handle) => methods[name] = new BotMethod(name, rateLimited, handle);

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

        var markup = InlineMarkup(c);
        return TryDeliver(c, chat, text, markup, out var state, out var id)
            ?? ApiResult.Ok(shapes.Message(c, state, id, text, isCaption: false, markup));
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
            state.Store(id, new StoredMessage(itemCaption, null, FromBot: true));
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
        state.Store(messageId, new StoredMessage(newText, newMarkup, FromBot: true));
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
        var stored = state.Message(messageId);
        if (stored is { Deleted: true })
        {
            return ApiResult.BadRequest("message to delete not found");
        }

        state.Store(messageId, (stored ?? new StoredMessage(null, null, FromBot: true)) with { Deleted = true });
        return ApiResult.Ok(true);
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
        if (state.TracksJoinRequests && !state.PendingJoinRequests.Remove(userId))
        {
            return ApiResult.BadRequest(
                approve && ChatMemberStatus.IsParticipant(state.MemberStatus(userId)) ? "USER_ALREADY_PARTICIPANT" : "HIDE_REQUESTER_MISSING");
        }

        if (approve)
        {
            state.Members[userId] = ChatMemberStatus.Member;
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

        return world.Chats.Find(chat) switch
        {
            { Known: true, BotRemoved: true } removed => Refusal(removed, ChatBlock.Kicked),
            { Known: true } state => ApiResult.Ok(TelegramShapes.ChatMember(userId, state.MemberStatus(userId))),
            _ => ApiResult.BadRequest("chat not found"),
        };
    }

    private ApiResult GetChatAdministrators(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (world.Chats.Find(chat) is not { Known: true } state)
        {
            return ApiResult.BadRequest("chat not found");
        }

        if (state.BotRemoved)
        {
            return Refusal(state, ChatBlock.Kicked);
        }

        if (state.EffectiveType == "private")
        {
            return ApiResult.BadRequest("there are no administrators in the private chat");
        }

        var admins = new JsonArray();
        foreach (var (userId, status) in state.Members.Where(m => m.Value == ChatMemberStatus.Creator).Concat(state.Members.Where(m => m.Value == ChatMemberStatus.Administrator)))
        {
            admins.Add(TelegramShapes.ChatMember(userId, status));
        }

        return ApiResult.Ok(admins);
    }

    /// <summary>
    /// Restricts a supergroup member to the permissions given. Every permission true lifts the restriction (the Bot API:
    /// "Pass True for all permissions to lift restrictions from a user"): a restricted member is a member again. A user
    /// who is not in the chat stays out of it.
    /// </summary>
    private ApiResult RestrictChatMember(CallContext c)
    {
        if (MemberAction(c, supergroupOnly: true, out var state, out var userId) is { } refused)
        {
            return refused;
        }

        if (c.Parameters.Structured("permissions") is not JsonObject permissions)
        {
            return ApiResult.BadRequest("parameter \"permissions\" is required");
        }

        var all = TelegramShapes.RestrictedPermissions.All(p => permissions[p] is JsonValue v && v.TryGetValue<bool>(out var on) && on);
        if (ChatMemberStatus.IsParticipant(state.MemberStatus(userId)))
        {
            state.Members[userId] = all ? ChatMemberStatus.Member : ChatMemberStatus.Restricted;
        }

        return ApiResult.Ok(true);
    }

    private ApiResult BanChatMember(CallContext c)
    {
        if (MemberAction(c, supergroupOnly: false, out var state, out var userId) is { } refused)
        {
            return refused;
        }

        state.Members[userId] = ChatMemberStatus.Kicked;
        return ApiResult.Ok(true);
    }

    /// <summary>
    /// A banned user may join again (left). Without only_if_banned a member is removed too: "this method guarantees that
    /// after the call the user is not a member of the chat, but will be able to join it".
    /// </summary>
    private ApiResult UnbanChatMember(CallContext c)
    {
        if (MemberAction(c, supergroupOnly: false, out var state, out var userId, onlyIfBanned: c.Parameters.Bool("only_if_banned")) is { } refused)
        {
            return refused;
        }

        var status = state.MemberStatus(userId);
        if (status == ChatMemberStatus.Kicked || (!c.Parameters.Bool("only_if_banned") && ChatMemberStatus.IsParticipant(status)))
        {
            state.Members[userId] = ChatMemberStatus.Left;
        }

        return ApiResult.Ok(true);
    }

    /// <summary>What restrict, ban and unban check first, with Telegram's errors: the chat, the bot's place and rights in it, the user.</summary>
    private ApiResult? MemberAction(CallContext c, bool supergroupOnly, out ChatState state, out long userId, bool onlyIfBanned = false)
    {
        state = null!;
        userId = 0;
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (c.Parameters.Long("user_id") is not { } user)
        {
            return ApiResult.BadRequest("invalid user_id specified");
        }

        userId = user;
        if (world.Chats.Find(chat) is not { Known: true } found)
        {
            return ApiResult.BadRequest("chat not found");
        }

        state = found;
        if (state.BotRemoved)
        {
            return Refusal(state, ChatBlock.Kicked);
        }

        if (state.EffectiveType is "private" or "channel" || (supergroupOnly && state.EffectiveType != "supergroup"))
        {
            return ApiResult.BadRequest("method is available only for supergroups");
        }

        var status = state.MemberStatus(user);
        if (onlyIfBanned && status != ChatMemberStatus.Kicked)
        {
            return null;
        }

        if (!state.BotCanRestrict)
        {
            return ApiResult.BadRequest("not enough rights to restrict/unrestrict chat member");
        }

        return status switch
        {
            ChatMemberStatus.Creator => ApiResult.BadRequest("can't remove chat owner"),
            ChatMemberStatus.Administrator => ApiResult.BadRequest("user is an administrator of the chat"),
            _ => null,
        };
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
    private ApiResult? TryDeliver(CallContext c, ChatRef chat, string? text, JsonObject? markup, out ChatState state, out int messageId)
    {
        state = null!;
        messageId = 0;
        var existing = world.Chats.Find(chat);
        if (existing?.Block is { } block)
        {
            return Refusal(existing, block);
        }

        if (world.Limiter.TryAcquire(c.Token, chat, c.Now) is { } retryAfter)
        {
            return ApiResult.TooManyRequests(retryAfter);
        }

        state = existing ?? world.Chats.GetOrAdd(chat);
        messageId = state.NextMessageId();
        state.Store(messageId, new StoredMessage(text, markup?.ToJsonString(), FromBot: true));
        c.Deliver(chat, messageId, text);
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
