namespace FakeTelegram;

/// <summary>
/// A user's recorded place in a chat (see <see cref="FakeTelegramServer.ChatMemberStatusOf"/>): the
/// <see cref="ChatMemberStatus"/>, whether they are in the chat (<c>is_member</c>), whether they may write, and the end
/// of a restriction or ban as the bot gave it (0: forever, or none).
/// </summary>
/// <param name="Permissions">What a restriction allows, by Telegram's names (<c>can_send_messages</c>, …); empty unless restricted.</param>
public sealed record ChatMemberState(
    string Status, bool IsMember, bool CanSendMessages, long UntilDate, IReadOnlyDictionary<string, bool> Permissions);
