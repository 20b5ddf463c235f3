using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

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

    /// <summary>A photo of an album (media_group_id) a user sends in private.</summary>
    public static string AlbumPhoto(long updateId, long userId, int messageId, string mediaGroupId) =>
        $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{messageId}}},"date":1700000000,"media_group_id":"{{{mediaGroupId}}}","chat":{"id":{{{userId}}},"type":"private","first_name":"T"},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"T","language_code":"en"},"photo":[{"file_id":"photo-{{{messageId}}}","file_unique_id":"u-{{{messageId}}}","width":90,"height":90}]}}""";

    /// <summary>A private message replying to a photo of an album (message <paramref name="replyTo"/> of <paramref name="mediaGroupId"/>).</summary>
    public static string ReplyToAlbum(long updateId, long userId, string text, int replyTo, string mediaGroupId) =>
        $$$$"""{"update_id":{{{{updateId}}}},"message":{"message_id":{{{{updateId + 1000}}}},"date":1700000000,"chat":{"id":{{{{userId}}}},"type":"private","first_name":"T"},"from":{"id":{{{{userId}}}},"is_bot":false,"first_name":"T","language_code":"en"},"text":"{{{{text}}}}","reply_to_message":{"message_id":{{{{replyTo}}}},"date":1700000000,"media_group_id":"{{{{mediaGroupId}}}}","chat":{"id":{{{{userId}}}},"type":"private","first_name":"T"},"photo":[{"file_id":"photo-{{{{replyTo}}}}","file_unique_id":"u-{{{{replyTo}}}}","width":90,"height":90}]}}}""";

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
    /// <paramref name="byUserId"/> (the user themself when null), optionally through the invite link named
    /// <paramref name="inviteLinkName"/> and after a join request.
    /// </summary>
    public static string ChatMember(
        long updateId, long chatId, long userId, string oldStatus, string newStatus, long? byUserId = null, string languageCode = "en",
        string? inviteLinkName = null, bool viaJoinRequest = false)
    {
        var user = $$$"""{"id":{{{userId}}},"is_bot":false,"first_name":"T"}""";
        var link = inviteLinkName is { } name
            ? $$$""","invite_link":{"invite_link":"https://t.me/+FakeInviteLink...","creator":{"id":1,"is_bot":false,"first_name":"Admin"},"creates_join_request":{{{(viaJoinRequest ? "true" : "false")}}},"is_primary":false,"is_revoked":false,"name":{{{JsonSerializer.Serialize(name)}}}}"""
            : "";
        return $$$"""{"update_id":{{{updateId}}},"chat_member":{"chat":{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club"},"from":{"id":{{{byUserId ?? userId}}},"is_bot":false,"first_name":"T","language_code":"{{{languageCode}}}"},"date":1700000000,"old_chat_member":{{{Member(user, oldStatus)}}},"new_chat_member":{{{Member(user, newStatus)}}}{{{link}}}{{{(viaJoinRequest ? ",\"via_join_request\":true" : "")}}}}}""";
    }

    /// <summary>
    /// A my_chat_member update: the bot's own status changed, by <paramref name="byUserId"/>. A positive
    /// <paramref name="chatId"/> is the user's private chat (<c>kicked</c>: the user blocked the bot, <c>member</c>: unblocked
    /// it); a negative one is the supergroup (added, made an administrator, removed).
    /// </summary>
    public static string MyChatMember(long updateId, long chatId, string oldStatus, string newStatus, long byUserId, long botId = 123456)
    {
        var chat = chatId > 0
            ? $$$"""{"id":{{{chatId}}},"type":"private","first_name":"T"}"""
            : $$$"""{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club"}""";
        var bot = $$$"""{"id":{{{botId}}},"is_bot":true,"first_name":"Fake Bot","username":"fake_bot"}""";
        return $$$"""{"update_id":{{{updateId}}},"my_chat_member":{"chat":{{{chat}}},"from":{"id":{{{byUserId}}},"is_bot":false,"first_name":"T","language_code":"en"},"date":1700000000,"old_chat_member":{{{Member(bot, oldStatus)}}},"new_chat_member":{{{Member(bot, newStatus)}}}}}""";
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

    /// <summary>A ChatMember of <paramref name="user"/> (its JSON) with the fields Telegram sends for the status.</summary>
    private static string Member(string user, string status) => status switch
    {
        "restricted" => $$$"""{"status":"restricted","user":{{{user}}},"is_member":true,"can_send_messages":false,"can_send_audios":false,"can_send_documents":false,"can_send_photos":false,"can_send_videos":false,"can_send_video_notes":false,"can_send_voice_notes":false,"can_send_polls":false,"can_send_other_messages":false,"can_add_web_page_previews":false,"can_change_info":false,"can_invite_users":false,"can_pin_messages":false,"can_manage_topics":false,"until_date":0}""",
        "kicked" => $$$"""{"status":"kicked","user":{{{user}}},"until_date":0}""",
        "administrator" => $$$"""{"status":"administrator","user":{{{user}}},"can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":true,"can_manage_video_chats":false,"can_restrict_members":true,"can_promote_members":false,"can_change_info":false,"can_invite_users":true,"can_post_stories":false,"can_edit_stories":false,"can_delete_stories":false}""",
        "creator" => $$$"""{"status":"creator","user":{{{user}}},"is_anonymous":false}""",
        _ => $$$"""{"status":"{{{status}}}","user":{{{user}}}}""",
    };
}
