using Telegram.Bot.Types;

namespace Bot.Features.JoinGate;

public static class Membership
{
    /// <summary>
    /// Whether getChatMember's answer means the user is in the chat: its owner, an administrator, a member, or
    /// restricted but still a member. Left and banned users, and restricted ones who left, are not.
    /// </summary>
    public static bool IsInChat(ChatMember member) => member switch
    {
        ChatMemberOwner or ChatMemberAdministrator or ChatMemberMember => true,
        ChatMemberRestricted restricted => restricted.IsMember,
        _ => false,
    };

    /// <summary>A chat_member change by which a user who was not in the chat now is (joined, was added, came back).</summary>
    public static bool Joined(ChatMember before, ChatMember after) => !IsInChat(before) && IsInChat(after);

    /// <summary>A chat_member change by which a user who was in the chat no longer is (left, was removed or banned).</summary>
    public static bool Left(ChatMember before, ChatMember after) => IsInChat(before) && !IsInChat(after);
}
