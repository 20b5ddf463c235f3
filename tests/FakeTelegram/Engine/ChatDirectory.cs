namespace FakeTelegram;

/// <summary>What the fake knows of each chat. Guarded by the state's lock.</summary>
internal sealed class ChatDirectory
{
    private readonly Dictionary<string, ChatState> chats = new(StringComparer.Ordinal);

    // Channels named by @username still need a numeric id in results; these are stable and look like channels.
    private long nextUsernameChatId = -1_009_000_000_000;

    public ChatState? Find(ChatRef chat) => chats.GetValueOrDefault(chat.Key);

    public ChatState GetOrAdd(ChatRef chat)
    {
        if (!chats.TryGetValue(chat.Key, out var state))
        {
            state = new ChatState(chat, chat.Id ?? nextUsernameChatId--);
            chats[chat.Key] = state;
        }

        return state;
    }

    public void Clear() => chats.Clear();
}

/// <summary>One chat: membership, join requests, blocking, and the messages in it.</summary>
internal sealed class ChatState(ChatRef chat, long numericId)
{
    // Allocated on first use: a broadcast touches many chats that need none of these.
    private Dictionary<long, ChatMemberEntry>? members;
    private HashSet<long>? pendingJoinRequests;
    private Dictionary<int, StoredMessage>? messages;

    public ChatRef Chat { get; } = chat;

    public long NumericId { get; } = numericId;

    /// <summary>Registered by the test: the bot is in the chat, so getChatMember works there.</summary>
    public bool Known { get; set; }

    /// <summary>A registered type, or null for the one the id implies.</summary>
    public string? Type { get; set; }

    public ChatBlock? Block { get; set; }

    /// <summary>The bot's administrator right to restrict, ban and unban members (on until the test turns it off).</summary>
    public bool BotCanRestrictMembers { get; set; } = true;

    /// <summary>The bot's administrator right to delete other people's messages.</summary>
    public bool BotCanDeleteMessages { get; set; } = true;

    public int LastMessageId { get; private set; }

    /// <summary>Users whose membership was set or changed, in the order they were first set.</summary>
    public IEnumerable<KeyValuePair<long, ChatMemberEntry>> Members => members ?? [];

    public HashSet<long> PendingJoinRequests => pendingJoinRequests ??= [];

    /// <summary>Once the test registers a join request here, approving or declining anything else fails.</summary>
    public bool TracksJoinRequests { get; set; }

    public string EffectiveType => Type ?? (Chat.Id switch
    {
        > 0 => "private",
        < -1_000_000_000_000 => "supergroup",
        null => "channel",
        _ => "group",
    });

    public string MemberStatus(long userId) => Member(userId).Status;

    public ChatMemberEntry Member(long userId) => members?.GetValueOrDefault(userId) ?? ChatMemberEntry.Left;

    public void SetMember(long userId, ChatMemberEntry entry) => (members ??= [])[userId] = entry;

    public void SetMember(long userId, string status) => SetMember(userId, ChatMemberEntry.Of(status));

    public StoredMessage? Message(int messageId) => messages?.GetValueOrDefault(messageId);

    public int NextMessageId() => ++LastMessageId;

    /// <summary>Records a message's content; message ids in a chat only grow, so ids seen in updates move the counter past them.</summary>
    public void Store(int messageId, StoredMessage message)
    {
        LastMessageId = Math.Max(LastMessageId, messageId);
        (messages ??= [])[messageId] = message;
    }
}

/// <summary>What an edit, copy, delete or reply needs to know about a message.</summary>
/// <param name="SentAt">When the fake delivered it (its clock); null for a message seen in an update, whose age is unknown.</param>
internal sealed record StoredMessage(
    string? Text, string? Markup, bool FromBot, bool Deleted = false, int? ThreadId = null, DateTimeOffset? SentAt = null, bool Edited = false);

/// <summary>
/// One user's place in a chat, as getChatMember shows it. <paramref name="Permissions"/> is what a restriction
/// allows (null unless restricted); <paramref name="UntilDate"/> is the restriction's or ban's end as given, 0 for forever.
/// </summary>
internal sealed record ChatMemberEntry(string Status, bool IsMember, IReadOnlyDictionary<string, bool>? Permissions = null, long UntilDate = 0)
{
    public static ChatMemberEntry Left { get; } = new(ChatMemberStatus.Left, false);

    /// <summary>A status set by the test: a restricted member is in the chat and may do nothing.</summary>
    public static ChatMemberEntry Of(string status) => new(status, ChatMemberStatus.IsParticipant(status));

    public bool Allows(string permission) => Status switch
    {
        ChatMemberStatus.Restricted => Permissions?.GetValueOrDefault(permission) ?? false,
        _ => IsMember,
    };
}
