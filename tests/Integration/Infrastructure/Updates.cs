using System.Net.Http.Headers;
using System.Text;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>Telegram-shaped webhook requests.</summary>
internal static class Updates
{
    public static string Message(long updateId, long chatId, string text = "hello", long? messageId = null) =>
        $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{messageId ?? updateId}}},"date":1700000000,"chat":{"id":{{{chatId}}},"type":"private","first_name":"T"},"from":{"id":{{{chatId}}},"is_bot":false,"first_name":"T"},"text":"{{{text}}}"}}""";

    /// <summary>A private message from a user with a language, optionally replying to an earlier message of the same chat.</summary>
    public static string UserMessage(long updateId, long userId, string text, string languageCode = "en", int? replyTo = null, long? messageId = null)
    {
        var reply = replyTo is { } original
            ? $$$""","reply_to_message":{"message_id":{{{original}}},"date":1700000000,"chat":{"id":{{{userId}}},"type":"private","first_name":"T"},"text":"announcement"}"""
            : "";
        return $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{messageId ?? updateId}}},"date":1700000000,"chat":{"id":{{{userId}}},"type":"private","first_name":"T"},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"T","language_code":"{{{languageCode}}}"},"text":"{{{text}}}"{{{reply}}}}}""";
    }

    /// <summary>A chat_join_request to <paramref name="chatId"/> (a supergroup) from a user, with the private chat Telegram opens for it.</summary>
    public static string JoinRequest(long updateId, long chatId, long userId, string languageCode = "en") =>
        $$$"""{"update_id":{{{updateId}}},"chat_join_request":{"chat":{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club"},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"T","language_code":"{{{languageCode}}}"},"user_chat_id":{{{userId}}},"date":1700000000}}""";

    /// <summary>A button press on message <paramref name="messageId"/> of the user's private chat.</summary>
    public static string Callback(long updateId, long userId, string data, int messageId) =>
        $$$$"""{"update_id":{{{{updateId}}}},"callback_query":{"id":"cb-{{{{updateId}}}}","from":{"id":{{{{userId}}}},"is_bot":false,"first_name":"T","language_code":"en"},"chat_instance":"ci-{{{{userId}}}}","data":"{{{{data}}}}","message":{"message_id":{{{{messageId}}}},"date":1700000000,"chat":{"id":{{{{userId}}}},"type":"private","first_name":"T"},"text":"check"}}}""";

    /// <summary>A button press on message <paramref name="messageId"/> in a group (a check shown there, a settings menu, a log line).</summary>
    public static string GroupCallback(long updateId, long chatId, long userId, string data, int messageId) =>
        $$$$"""{"update_id":{{{{updateId}}}},"callback_query":{"id":"cb-{{{{updateId}}}}","from":{"id":{{{{userId}}}},"is_bot":false,"first_name":"T","language_code":"en"},"chat_instance":"ci-{{{{chatId}}}}","data":"{{{{data}}}}","message":{"message_id":{{{{messageId}}}},"date":1700000000,"chat":{"id":{{{{chatId}}}},"type":"supergroup","title":"Gated Club"},"text":"check"}}}""";

    /// <summary>A message from a user in a supergroup, optionally in a forum topic.</summary>
    public static string GroupMessage(long updateId, long chatId, long userId, string text, int? threadId = null, string languageCode = "en")
    {
        var topic = threadId is { } thread ? $$$""","message_thread_id":{{{thread}}},"is_topic_message":true""" : "";
        return $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{updateId}}},"date":1700000000,"chat":{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club","is_forum":{{{(threadId is null ? "false" : "true")}}}},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"T","language_code":"{{{languageCode}}}"},"text":"{{{text}}}"{{{topic}}}}}""";
    }

    /// <summary>
    /// A chat_member update in a supergroup: <paramref name="userId"/>'s status changed from <paramref name="oldStatus"/> to
    /// <paramref name="newStatus"/> (Telegram's names: member, left, kicked, restricted, administrator, creator), by
    /// <paramref name="byUserId"/> (the user themself when null).
    /// </summary>
    public static string ChatMember(long updateId, long chatId, long userId, string oldStatus, string newStatus, long? byUserId = null, bool viaJoinRequest = false)
    {
        static string Member(long user, string status) => status == "restricted"
            ? $$$"""{"status":"restricted","user":{"id":{{{user}}},"is_bot":false,"first_name":"T"},"is_member":true,"can_send_messages":false,"can_send_audios":false,"can_send_documents":false,"can_send_photos":false,"can_send_videos":false,"can_send_video_notes":false,"can_send_voice_notes":false,"can_send_polls":false,"can_send_other_messages":false,"can_add_web_page_previews":false,"can_change_info":false,"can_invite_users":false,"can_pin_messages":false,"can_manage_topics":false,"until_date":0}"""
            : status == "kicked"
                ? $$$"""{"status":"kicked","user":{"id":{{{user}}},"is_bot":false,"first_name":"T"},"until_date":0}"""
                : $$$"""{"status":"{{{status}}}","user":{"id":{{{user}}},"is_bot":false,"first_name":"T"}}""";
        return $$$"""{"update_id":{{{updateId}}},"chat_member":{"chat":{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club"},"from":{"id":{{{byUserId ?? userId}}},"is_bot":false,"first_name":"T","language_code":"en"},"date":1700000000,"old_chat_member":{{{Member(userId, oldStatus)}}},"new_chat_member":{{{Member(userId, newStatus)}}}{{{(viaJoinRequest ? ",\"via_join_request\":true" : "")}}}}}""";
    }

    /// <summary>
    /// A my_chat_member update: the bot's own status in <paramref name="chatId"/> changed (a private chat when positive:
    /// kicked means the user blocked the bot). An administrator's rights are <paramref name="canRestrict"/> and
    /// <paramref name="canInvite"/>.
    /// </summary>
    public static string MyChatMember(long updateId, long chatId, string oldStatus, string newStatus, long byUserId, bool canRestrict = true, bool canInvite = true)
    {
        static string Bot(string status, bool restrict, bool invite) => status switch
        {
            "administrator" => $$$"""{"status":"administrator","user":{"id":123456,"is_bot":true,"first_name":"Bot","username":"test_bot"},"can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":true,"can_manage_video_chats":false,"can_restrict_members":{{{(restrict ? "true" : "false")}}},"can_promote_members":false,"can_change_info":false,"can_invite_users":{{{(invite ? "true" : "false")}}},"can_post_stories":false,"can_edit_stories":false,"can_delete_stories":false}""",
            "kicked" => """{"status":"kicked","user":{"id":123456,"is_bot":true,"first_name":"Bot","username":"test_bot"},"until_date":0}""",
            _ => $$$"""{"status":"{{{status}}}","user":{"id":123456,"is_bot":true,"first_name":"Bot","username":"test_bot"}}""",
        };
        var chat = chatId > 0
            ? $$$"""{"id":{{{chatId}}},"type":"private","first_name":"T"}"""
            : $$$"""{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club"}""";
        return $$$"""{"update_id":{{{updateId}}},"my_chat_member":{"chat":{{{chat}}},"from":{"id":{{{byUserId}}},"is_bot":false,"first_name":"T","language_code":"en"},"date":1700000000,"old_chat_member":{{{Bot(oldStatus, canRestrict, canInvite)}}},"new_chat_member":{{{Bot(newStatus, canRestrict, canInvite)}}}}}""";
    }

    public static HttpRequestMessage Post(Uri uri, string body, string? secret = BotProcess.WebhookSecret, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (secret is not null)
        {
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
        }

        return request;
    }
}
