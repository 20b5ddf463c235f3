using System.Text.Json;

namespace Bot.Outbox;

/// <summary>What a sent call's stored result (outbox.result, the Bot API's JSON) says.</summary>
public static class OutboxResults
{
    /// <summary>The message id of a sent message (a Message or a MessageId object); null for any other result.</summary>
    public static int? MessageId(string result)
    {
        try
        {
            using var document = JsonDocument.Parse(result);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message_id", out var id) && id.TryGetInt32(out var value)
                ? value
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
