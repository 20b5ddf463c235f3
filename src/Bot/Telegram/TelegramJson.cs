using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace Bot.Telegram;

/// <summary>
/// Telegram.Bot's serializer settings with its source-generated context as the resolver in every build, so
/// that the JIT build (tests, `dotnet run`) parses exactly as the Native AOT binary does, with no reflection.
/// </summary>
public static class TelegramJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static JsonTypeInfo<Update> Update { get; } = (JsonTypeInfo<Update>)Options.GetTypeInfo(typeof(Update));

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonBotAPI.Options);
        options.TypeInfoResolver ??= JsonBotSerializerContext.Default;
        options.MakeReadOnly();
        return options;
    }
}
