using System.Text.Json;
using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>Chat administration: restricting, banning and unbanning members, and listing a chat's administrators.</summary>
internal sealed partial class BotMethods
{
    private const string NotEnoughRights = "not enough rights to restrict/unrestrict chat member";

    /// <summary>
    /// restrictChatMember, in supergroups only. Telegram keeps whether the user was in the chat (<c>is_member</c>) and
    /// records the permissions; a restriction allowing everything lifts it, so the user is a member again (or left,
    /// if they were not in the chat). Without <c>permissions</c> Telegram restricts everything.
    /// </summary>
    private ApiResult RestrictChatMember(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (RequireUser(c, out var userId) is { } noUser)
        {
            return noUser;
        }

        if (ReadPermissions(c, out var permissions) is { } badPermissions)
        {
            return badPermissions;
        }

        if (AdministeredChat(chat, out var state) is { } refused)
        {
            return refused;
        }

        if (state.EffectiveType != "supergroup")
        {
            return ApiResult.BadRequest("method is available only for supergroups");
        }

        if (!state.BotCanRestrictMembers)
        {
            return ApiResult.BadRequest(NotEnoughRights);
        }

        var current = MemberOf(c, state, userId);
        if (Untouchable(current) is { } protectedMember)
        {
            return protectedMember;
        }

        state.SetMember(userId, permissions.Values.All(allowed => allowed)
            ? current.IsMember ? ChatMemberEntry.Of(ChatMemberStatus.Member) : ChatMemberEntry.Left
            : new ChatMemberEntry(ChatMemberStatus.Restricted, current.IsMember, permissions, c.Parameters.Long("until_date") ?? 0));
        return ApiResult.Ok(true);
    }

    /// <summary>
    /// banChatMember, in groups, supergroups and channels: the user is <c>kicked</c> until <c>until_date</c>, kept as
    /// given (Telegram takes under 30 seconds or over 366 days from now as forever; 0 is forever).
    /// <c>revoke_messages</c> is accepted and changes nothing.
    /// </summary>
    private ApiResult BanChatMember(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (RequireUser(c, out var userId) is { } noUser)
        {
            return noUser;
        }

        if (AdministeredChat(chat, out var state) is { } refused)
        {
            return refused;
        }

        if (state.EffectiveType == "private")
        {
            return ApiResult.BadRequest("can't ban members in private chats");
        }

        if (!state.BotCanRestrictMembers)
        {
            return ApiResult.BadRequest(NotEnoughRights);
        }

        if (Untouchable(MemberOf(c, state, userId)) is { } protectedMember)
        {
            return protectedMember;
        }

        state.SetMember(userId, new ChatMemberEntry(ChatMemberStatus.Kicked, false, null, c.Parameters.Long("until_date") ?? 0));
        return ApiResult.Ok(true);
    }

    /// <summary>
    /// unbanChatMember, in supergroups and channels: afterwards the user is not in the chat but may join (<c>left</c>),
    /// so a member is removed. With <c>only_if_banned</c> anyone not banned is left as they are and the answer is
    /// true, as on Telegram, which then checks no rights.
    /// </summary>
    private ApiResult UnbanChatMember(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (RequireUser(c, out var userId) is { } noUser)
        {
            return noUser;
        }

        if (AdministeredChat(chat, out var state) is { } refused)
        {
            return refused;
        }

        if (state.EffectiveType is not ("supergroup" or "channel"))
        {
            return ApiResult.BadRequest("method is available for supergroup and channel chats only");
        }

        var current = MemberOf(c, state, userId);
        if (c.Parameters.Bool("only_if_banned") && current.Status != ChatMemberStatus.Kicked)
        {
            return ApiResult.Ok(true);
        }

        if (!state.BotCanRestrictMembers)
        {
            return ApiResult.BadRequest(NotEnoughRights);
        }

        if (Untouchable(current) is { } protectedMember)
        {
            return protectedMember;
        }

        state.SetMember(userId, ChatMemberEntry.Left);
        return ApiResult.Ok(true);
    }

    /// <summary>getChatAdministrators: the owner first, then the administrators the test set, then the bot itself.</summary>
    private ApiResult GetChatAdministrators(CallContext c)
    {
        if (RequireChat(c, "chat_id", out var chat) is { } invalid)
        {
            return invalid;
        }

        if (AdministeredChat(chat, out var state) is { } refused)
        {
            return refused;
        }

        if (state.EffectiveType == "private")
        {
            return ApiResult.BadRequest("there are no administrators in the private chat");
        }

        var botId = TokenPolicy.BotId(c.Token);
        var administrators = new JsonArray();
        foreach (var status in (ReadOnlySpan<string>)[ChatMemberStatus.Creator, ChatMemberStatus.Administrator])
        {
            foreach (var (userId, entry) in state.Members)
            {
                if (entry.Status == status && userId != botId)
                {
                    administrators.Add(TelegramShapes.ChatMember(userId, entry));
                }
            }
        }

        administrators.Add(shapes.BotMember(botId, state));
        return ApiResult.Ok(administrators);
    }

    /// <summary>
    /// The chat a member method acts on: a group registered by the test with the bot still in it. Users exist as
    /// soon as they are mentioned, so a private chat is always found (and then refused by each method's type check).
    /// </summary>
    private ApiResult? AdministeredChat(ChatRef chat, out ChatState state)
    {
        var found = world.Chats.Find(chat);
        if (BotAbsent(found) is { } refused)
        {
            state = found!;
            return refused;
        }

        if (found is { Known: true } || chat.IsPrivate)
        {
            state = found ?? world.Chats.GetOrAdd(chat);
            return null;
        }

        state = null!;
        return ApiResult.BadRequest("chat not found");
    }

    /// <summary>The user's place in the chat; the bot is an administrator of every group it is in.</summary>
    private static ChatMemberEntry MemberOf(CallContext c, ChatState state, long userId) =>
        userId == TokenPolicy.BotId(c.Token) && state.EffectiveType != "private"
            ? ChatMemberEntry.Of(ChatMemberStatus.Administrator)
            : state.Member(userId);

    /// <summary>Neither the owner nor an administrator can be restricted, banned or removed.</summary>
    private static ApiResult? Untouchable(ChatMemberEntry member) => member.Status switch
    {
        ChatMemberStatus.Creator => ApiResult.BadRequest("can't remove chat owner"),
        ChatMemberStatus.Administrator => ApiResult.BadRequest("user is an administrator of the chat"),
        _ => null,
    };

    private static ApiResult? RequireUser(CallContext c, out long userId)
    {
        userId = c.Parameters.Long("user_id") ?? 0;
        return userId > 0 ? null : ApiResult.BadRequest("invalid user_id specified");
    }

    /// <summary>
    /// ChatPermissions as Telegram reads them: fields left out are false, except <c>can_manage_topics</c>, which
    /// follows <c>can_pin_messages</c>, and the six media permissions, which follow the older
    /// <c>can_send_media_messages</c> when none of them is given. Unless <c>use_independent_chat_permissions</c>,
    /// <c>can_send_other_messages</c> and <c>can_add_web_page_previews</c> imply the media permissions and
    /// <c>can_send_messages</c>, and <c>can_send_polls</c> and media imply <c>can_send_messages</c>.
    /// </summary>
    private static ApiResult? ReadPermissions(CallContext c, out Dictionary<string, bool> result)
    {
        var permissions = result = TelegramShapes.ChatPermissionNames.ToDictionary(name => name, _ => false);
        JsonObject json;
        switch (c.Parameters["permissions"])
        {
            case null:
                return null;
            case JsonObject given:
                json = given;
                break;
            case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                try
                {
                    if (JsonNode.Parse(text.GetValue<string>()) is not JsonObject parsed)
                    {
                        return ApiResult.BadRequest("object expected as permissions");
                    }

                    json = parsed;
                }
                catch (JsonException)
                {
                    return ApiResult.BadRequest("can't parse permissions JSON object");
                }

                break;
            default:
                return ApiResult.BadRequest("object expected as permissions");
        }

        foreach (var name in TelegramShapes.ChatPermissionNames.Append("can_send_media_messages"))
        {
            if (json[name] is { } value && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                return ApiResult.BadRequest($"can't parse chat permissions: Field \"{name}\" must be of type Boolean");
            }
        }

        bool Flag(string name) => json[name]?.GetValueKind() == JsonValueKind.True;

        string[] media = ["can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes", "can_send_voice_notes"];
        foreach (var name in permissions.Keys.ToList())
        {
            permissions[name] = Flag(name);
        }

        if (!json.ContainsKey("can_manage_topics"))
        {
            permissions["can_manage_topics"] = permissions["can_pin_messages"];
        }

        var independent = c.Parameters.Bool("use_independent_chat_permissions");
        if (!media.Any(json.ContainsKey) && Flag("can_send_media_messages"))
        {
            Array.ForEach(media, name => permissions[name] = true);
            permissions["can_send_messages"] |= !independent;
        }

        if (!independent && (permissions["can_send_other_messages"] || permissions["can_add_web_page_previews"]))
        {
            Array.ForEach(media, name => permissions[name] = true);
            permissions["can_send_messages"] = true;
        }

        if (!independent && permissions["can_send_polls"])
        {
            permissions["can_send_messages"] = true;
        }

        return null;
    }
}
