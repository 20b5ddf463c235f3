using System.Globalization;
using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>Results shaped as Telegram's User, Chat, Message and ChatMember, with the fields it always sends.</summary>
internal sealed class TelegramShapes(FakeTelegramOptions options)
{
    public JsonObject Bot(long botId) => new()
    {
        ["id"] = botId,
        ["is_bot"] = true,
        ["first_name"] = options.BotFirstName,
        ["username"] = options.BotUsername,
    };

    public JsonObject Me(long botId)
    {
        var me = Bot(botId);
        me["can_join_groups"] = true;
        me["can_read_all_group_messages"] = false;
        me["supports_inline_queries"] = false;
        me["can_connect_to_business"] = false;
        me["has_main_web_app"] = false;
        return me;
    }

    public static JsonObject User(long userId) => new()
    {
        ["id"] = userId,
        ["is_bot"] = false,
        ["first_name"] = "User " + userId.ToString(CultureInfo.InvariantCulture),
    };

    public static JsonObject Chat(ChatState chat)
    {
        var type = chat.EffectiveType;
        var result = new JsonObject { ["id"] = chat.NumericId };
        if (type == "private")
        {
            result["first_name"] = "User " + chat.NumericId.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            result["title"] = "Chat " + chat.NumericId.ToString(CultureInfo.InvariantCulture);
        }

        if (chat.Chat.Username is { } username)
        {
            result["username"] = username[1..];
        }

        result["type"] = type;
        return result;
    }

    /// <summary>
    /// A message the bot sent; Telegram echoes an inline keyboard but no other reply markup, and marks a message
    /// sent to a forum topic with its <c>message_thread_id</c> and <c>is_topic_message</c>.
    /// </summary>
    public JsonObject Message(
        CallContext context, ChatState chat, int messageId, string? text, bool isCaption, JsonObject? inlineMarkup, bool edited = false,
        int? threadId = null, JsonObject? replyTo = null)
    {
        var message = new JsonObject { ["message_id"] = messageId };
        if (threadId is { } thread)
        {
            message["message_thread_id"] = thread;
        }

        if (chat.EffectiveType == "channel")
        {
            message["sender_chat"] = Chat(chat);
        }
        else
        {
            message["from"] = Bot(TokenPolicy.BotId(context.Token));
        }

        message["chat"] = Chat(chat);
        message["date"] = context.UnixTime;
        if (threadId is not null)
        {
            message["is_topic_message"] = true;
        }

        if (replyTo is not null)
        {
            message["reply_to_message"] = replyTo;
        }

        if (edited)
        {
            message["edit_date"] = context.UnixTime;
        }

        if (text is not null)
        {
            message[isCaption ? "caption" : "text"] = text;
        }

        if (inlineMarkup is not null)
        {
            message["reply_markup"] = inlineMarkup.DeepClone();
        }

        return message;
    }

    /// <summary>
    /// ChatMemberOwner, …Administrator (every right), …Member, …Restricted (its permissions, <c>is_member</c>,
    /// <c>until_date</c>), …Left or …Banned (<c>until_date</c>, 0 for forever).
    /// </summary>
    /// <summary>The message replied to, with the fields every Message has (and its text when the fake knows it).</summary>
    public static JsonObject RepliedMessage(CallContext context, ChatState chat, int messageId, StoredMessage? stored)
    {
        var message = new JsonObject { ["message_id"] = messageId, ["chat"] = Chat(chat), ["date"] = context.UnixTime };
        if (stored?.Text is { } text)
        {
            message["text"] = text;
        }

        return message;
    }

    public static JsonObject ChatMember(long userId, ChatMemberEntry entry)
    {
        var member = new JsonObject { ["status"] = entry.Status, ["user"] = User(userId) };
        switch (entry.Status)
        {
            case ChatMemberStatus.Creator:
                member["is_anonymous"] = false;
                break;
            case ChatMemberStatus.Administrator:
                AddAdministratorRights(member, _ => true);
                break;
            case ChatMemberStatus.Restricted:
                member["is_member"] = entry.IsMember;
                foreach (var permission in ChatPermissionNames)
                {
                    member[permission] = entry.Allows(permission);
                }

                member["until_date"] = entry.UntilDate;
                break;
            case ChatMemberStatus.Kicked:
                member["until_date"] = entry.UntilDate;
                break;
        }

        return member;
    }

    /// <summary>The bot itself: an administrator of a group with the rights the test left it, a member of a private chat.</summary>
    public JsonObject BotMember(long botId, ChatState chat)
    {
        if (chat.EffectiveType == "private")
        {
            return new JsonObject { ["status"] = ChatMemberStatus.Member, ["user"] = Bot(botId) };
        }

        var member = new JsonObject { ["status"] = ChatMemberStatus.Administrator, ["user"] = Bot(botId) };
        AddAdministratorRights(member, right => right switch
        {
            "can_manage_chat" or "can_invite_users" => true,
            "can_restrict_members" => chat.BotCanRestrictMembers,
            "can_delete_messages" => chat.BotCanDeleteMessages,
            _ => false,
        });
        return member;
    }

    /// <summary>ChatPermissions' fields, which a restricted member's shape carries too.</summary>
    public static IReadOnlyList<string> ChatPermissionNames { get; } =
    [
        "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
        "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
        "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics",
    ];

    private static void AddAdministratorRights(JsonObject member, Func<string, bool> has)
    {
        member["can_be_edited"] = false;
        member["is_anonymous"] = false;
        foreach (var right in AdministratorRights)
        {
            member[right] = has(right);
        }
    }

    private static readonly string[] AdministratorRights =
    [
        "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
        "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
        "can_delete_stories",
    ];
}
