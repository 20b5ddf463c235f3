using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Bot.Telegram;
using Telegram.Bot.Types;

namespace Bot.Ingest;

/// <summary>
/// Turns one update's JSON, from a webhook body or a getUpdates result, into an inbox row: strictly valid
/// UTF-8, a Telegram update with an id, its kind and ordering key, and the JSON kept exactly as received.
/// </summary>
public static class UpdateParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryParse(byte[] body, out InboxRecord record, out string problem)
    {
        record = null!;
        string payload;
        try
        {
            payload = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            problem = "body is not valid UTF-8";
            return false;
        }

        Update? update;
        try
        {
            update = JsonSerializer.Deserialize(body, TelegramJson.Update);
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or InvalidOperationException
                                              or FormatException or ArgumentException or OverflowException)
        {
            problem = "body is not a Telegram update: " + exception.GetType().Name;
            return false;
        }

        if (update is null || update.Id <= 0)
        {
            problem = "body is not a Telegram update: update_id is missing";
            return false;
        }

        try
        {
            record = new InboxRecord(
                update.Id, UpdateClassifier.ChatKey(update), UpdateClassifier.Kind(update, body), payload,
                Activity.Current?.Id);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or NullReferenceException)
        {
            // Parsed but not shaped like anything Telegram sends.
            problem = "body is not a Telegram update: " + exception.GetType().Name;
            return false;
        }

        problem = "";
        return true;
    }
}
