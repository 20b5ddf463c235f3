using System.Collections.Concurrent;
using Bot.Telegram;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;

namespace Bot.Features.MiniApp;

/// <summary>
/// Whether a user administers a chat, as Telegram says (getChatMember: owner or administrator), remembered for at most
/// MiniApp:ChatAdminCacheSeconds (a minute), so an admin who lost their rights loses the app within a minute and a
/// busy panel does not ask Telegram on every call. A refusal (not an admin, the bot not in the chat) is remembered the
/// same way; an error of Telegram's or the network's is not remembered, and refuses. Bounded: past
/// <see cref="MaxEntries"/> the oldest half is dropped.
/// </summary>
public sealed partial class ChatAdminCache(TelegramClients telegram, IOptionsMonitor<MiniAppOptions> options, TimeProvider time, ILogger<ChatAdminCache> logger)
{
    public const int MaxEntries = 50_000;

    private readonly ConcurrentDictionary<(long Chat, long User), (bool Admin, long Until)> entries = new();

    public async Task<bool> IsAdminAsync(long chatId, long userId, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (entries.TryGetValue((chatId, userId), out var entry) && entry.Until > now)
        {
            return entry.Admin;
        }

        bool admin;
        try
        {
            admin = await telegram.Reader.GetChatMember(chatId, userId, cancellationToken) is ChatMemberOwner or ChatMemberAdministrator;
        }
        catch (ApiRequestException exception) when (exception.ErrorCode is 400 or 403)
        {
            admin = false;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Telegram or the network failed (Telegram.Bot's RequestException, the resilience pipeline's timeout or open
            // circuit): refused for now, asked again next time.
            LogUnknown(logger, chatId, userId, exception.GetType().Name);
            return false;
        }

        if (entries.Count >= MaxEntries)
        {
            foreach (var old in entries.OrderBy(e => e.Value.Until).Take(MaxEntries / 2))
            {
                entries.TryRemove(old.Key, out _);
            }
        }

        entries[(chatId, userId)] = (admin, now + (long)(options.CurrentValue.ChatAdminCacheSeconds * (double)time.TimestampFrequency));
        return admin;
    }

    /// <summary>Those of <paramref name="chats"/> that <paramref name="userId"/> administers, asked four at a time.</summary>
    public async Task<List<long>> AdministeredAsync(IReadOnlyList<long> chats, long userId, CancellationToken cancellationToken)
    {
        var admin = new bool[chats.Count];
        await Parallel.ForAsync(0, chats.Count, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (i, token) => admin[i] = await IsAdminAsync(chats[i], userId, token));
        return [.. chats.Where((_, i) => admin[i])];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot tell whether user {UserId} administers chat {ChatId} ({Error}); refused for now")]
    private static partial void LogUnknown(ILogger logger, long chatId, long userId, string error);
}
