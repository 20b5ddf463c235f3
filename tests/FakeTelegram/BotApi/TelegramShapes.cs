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

    /// <summary>A message the bot sent; Telegram echoes an inline keyboard but no other reply markup.</summary>
    public JsonObject Message(CallContext context, ChatState chat, int messageId, string? text, bool isCaption, JsonObject? inlineMarkup, bool edited = false)
    {
        var message = new JsonObject { ["message_id"] = messageId };
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

    public static JsonObject ChatMember(long userId, string status)
    {
        var member = new JsonObject { ["status"] = status, ["user"] = User(userId) };
        switch (status)
        {
            case ChatMemberStatus.Creator:
                member["is_anonymous"] = false;
                break;
            case ChatMemberStatus.Administrator:
                member["can_be_edited"] = false;
                member["is_anonymous"] = false;
                foreach (var right in AdministratorRights)
                {
                    member[right] = true;
                }

                break;
            case ChatMemberStatus.Restricted:
                member["is_member"] = true;
                foreach (var permission in RestrictedPermissions)
                {
                    member[permission] = false;
                }

                member["until_date"] = 0;
                break;
            case ChatMemberStatus.Kicked:
                member["until_date"] = 0;
                break;
        }

        return member;
    }

    private static readonly string[] AdministratorRights =
    [
        "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
        "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
        "can_delete_stories",
    ];

    public static readonly string[] RestrictedPermissions =
    [
        "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
        "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
        "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics",
    ];
}
