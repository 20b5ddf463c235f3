namespace FakeTelegram;

/// <summary>
/// A message in a chat as the fake knows it now (see <see cref="FakeTelegramServer.Message"/>): its text or caption
/// after any edit (null when unknown), whether the bot sent it, edited it, or deleted it.
/// </summary>
public sealed record MessageState(int MessageId, string? Text, bool FromBot, bool Edited, bool Deleted);
