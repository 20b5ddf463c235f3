using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>A <c>chat_id</c> as Telegram takes it: a number, or a channel's <c>@username</c>.</summary>
internal readonly record struct ChatRef(long? Id, string? Username)
{
    /// <summary>Dictionary key; usernames are case-insensitive in Telegram.</summary>
    public string Key => Id?.ToString(CultureInfo.InvariantCulture) ?? Username!.ToLowerInvariant();

    /// <summary>Users have positive ids; groups, supergroups and channels negative ones.</summary>
    public bool IsPrivate => Id > 0;

    public static ChatRef Of(long id) => new(id, null);

    public static bool TryParse(JsonNode? node, out ChatRef chat)
    {
        chat = default;
        if (node is not JsonValue value)
        {
            return false;
        }

        if (value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number))
        {
            chat = Of(number);
            return number != 0;
        }

        return value.GetValueKind() == JsonValueKind.String && TryParse(value.GetValue<string>(), out chat);
    }

    public static bool TryParse(string? text, out ChatRef chat)
    {
        chat = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            chat = Of(number);
            return number != 0;
        }

        if (text.Length > 1 && text[0] == '@')
        {
            chat = new ChatRef(null, text);
            return true;
        }

        return false;
    }

    public override string ToString() => Id?.ToString(CultureInfo.InvariantCulture) ?? Username ?? "";
}
