namespace FakeTelegram;

/// <summary>Why every message to a chat fails, with the 403 Telegram answers for it.</summary>
public enum ChatBlock
{
    /// <summary>403 <c>Forbidden: bot was blocked by the user</c>.</summary>
    BlockedByUser,

    /// <summary>403 <c>Forbidden: user is deactivated</c>.</summary>
    UserDeactivated,

    /// <summary>403 <c>Forbidden: bot was kicked from the group chat</c>.</summary>
    Kicked,
}

/// <summary>The <c>status</c> values of Telegram's ChatMember.</summary>
public static class ChatMemberStatus
{
    public const string Creator = "creator";
    public const string Administrator = "administrator";
    public const string Member = "member";
    public const string Restricted = "restricted";
    public const string Left = "left";
    public const string Kicked = "kicked";

    internal static bool IsValid(string status) =>
        status is Creator or Administrator or Member or Restricted or Left or Kicked;

    internal static bool IsParticipant(string status) => status is Creator or Administrator or Member or Restricted;
}
