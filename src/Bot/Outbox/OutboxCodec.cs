using System.Text.Json;
using Bot.Telegram;
using Telegram.Bot;
using Telegram.Bot.Requests;
using Telegram.Bot.Requests.Abstractions;

namespace Bot.Outbox;

/// <summary>
/// Outgoing Bot API calls as rows: a Telegram.Bot request is stored as its method name and the JSON the
/// library itself would send, and turned back into the same typed request to be sent. Only the methods
/// listed here may be queued, so a row can always be sent by the release that reads it.
/// </summary>
public static class OutboxCodec
{
    public static (string Method, string Payload) Encode<TResponse>(IRequest<TResponse> request)
    {
        var method = request.MethodName;
        if (!Senders.ContainsKey(method))
        {
            throw new ArgumentException($"{method} cannot go through the outbox", nameof(request));
        }

        return (method, JsonSerializer.Serialize(request, TelegramJson.Options.GetTypeInfo(request.GetType())));
    }

    /// <summary>Sends a stored call; returns the Bot API result as JSON.</summary>
    public static Task<string> SendAsync(ITelegramBotClient client, string method, string payload, CancellationToken cancellationToken) =>
        Senders.TryGetValue(method, out var send)
            ? send(client, payload, cancellationToken)
            : throw new NotSupportedException($"no sender for Bot API method {method}");

    private static readonly Dictionary<string, Func<ITelegramBotClient, string, CancellationToken, Task<string>>> Senders = new()
    {
        ["sendMessage"] = Send<SendMessageRequest, global::Telegram.Bot.Types.Message>,
        ["copyMessage"] = Send<CopyMessageRequest, global::Telegram.Bot.Types.MessageId>,
        ["copyMessages"] = Send<CopyMessagesRequest, global::Telegram.Bot.Types.MessageId[]>,
        ["forwardMessage"] = Send<ForwardMessageRequest, global::Telegram.Bot.Types.Message>,
        ["editMessageText"] = Send<EditMessageTextRequest, global::Telegram.Bot.Types.Message>,
        ["deleteMessage"] = Send<DeleteMessageRequest, bool>,
        ["deleteMessages"] = Send<DeleteMessagesRequest, bool>,
        ["answerCallbackQuery"] = Send<AnswerCallbackQueryRequest, bool>,
        ["approveChatJoinRequest"] = Send<ApproveChatJoinRequestRequest, bool>,
        ["declineChatJoinRequest"] = Send<DeclineChatJoinRequestRequest, bool>,
        ["restrictChatMember"] = Send<RestrictChatMemberRequest, bool>,
        ["banChatMember"] = Send<BanChatMemberRequest, bool>,
        ["unbanChatMember"] = Send<UnbanChatMemberRequest, bool>,
        ["setChatMenuButton"] = Send<SetChatMenuButtonRequest, bool>,
    };

    private static async Task<string> Send<TRequest, TResponse>(ITelegramBotClient client, string payload, CancellationToken cancellationToken)
        where TRequest : IRequest<TResponse>
    {
        var request = (TRequest)JsonSerializer.Deserialize(payload, TelegramJson.Options.GetTypeInfo(typeof(TRequest)))!;
        var response = await client.SendRequest(request, cancellationToken);
        return JsonSerializer.Serialize(response, TelegramJson.Options.GetTypeInfo(typeof(TResponse)));
    }
}
