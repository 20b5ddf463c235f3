using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>Everything a bot can change or notice. Guarded by the state's lock.</summary>
internal sealed class BotWorld(FakeTelegramOptions options)
{
    public ChatDirectory Chats { get; } = new();

    public RateLimiter Limiter { get; } = new(options.RateLimits);

    public FaultTable Faults { get; } = new();

    public UpdateQueue Updates { get; } = new();

    public WebhookSettings Webhook { get; } = new();

    /// <summary>The last setMyCommands list, as JSON text.</summary>
    public string? Commands { get; set; }

    /// <summary>The menu button set per private chat (0: the default for every chat), as JSON text.</summary>
    public Dictionary<long, string> MenuButtons { get; } = [];

    public void Reset()
    {
        Chats.Clear();
        Limiter.Clear();
        Limiter.Limits = options.RateLimits;
        Faults.Clear();
        Updates.Clear();
        Webhook.Clear();
        Commands = null;
        MenuButtons.Clear();
    }

    /// <summary>Remembers the messages an update carries, so that copies, edits and new ids follow on from them.</summary>
    public void ObserveMessages(JsonObject update)
    {
        foreach (var kind in (ReadOnlySpan<string>)["message", "edited_message", "channel_post", "edited_channel_post", "business_message"])
        {
            if (update[kind] is JsonObject message
                && message["message_id"] is JsonValue id && id.TryGetValue<int>(out var messageId)
                && message["chat"] is JsonObject chat && ChatRef.TryParse(chat["id"], out var chatRef))
            {
                var text = (message["text"] ?? message["caption"]) is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
                Chats.GetOrAdd(chatRef).Store(messageId, new StoredMessage(text, null, FromBot: false));
            }
        }
    }
}

internal sealed class WebhookSettings
{
    public const int DefaultMaxConnections = 40;

    public string Url { get; set; } = "";

    public string? SecretToken { get; set; }

    public IReadOnlyList<string>? AllowedUpdates { get; set; }

    public int MaxConnections { get; set; } = DefaultMaxConnections;

    public bool IsSet => Url.Length > 0;

    public void Clear()
    {
        Url = "";
        SecretToken = null;
        AllowedUpdates = null;
        MaxConnections = DefaultMaxConnections;
    }
}
