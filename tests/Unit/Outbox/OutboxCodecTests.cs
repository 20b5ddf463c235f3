using System.Text.Json;
using Bot.Outbox;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Tests.Unit.Outbox;

public sealed class OutboxCodecTests
{
    [Fact]
    public void A_request_is_stored_as_telegrams_own_method_and_fields()
    {
        var (method, payload) = OutboxCodec.Encode(new SendMessageRequest
        {
            ChatId = 42,
            Text = "hi",
            ReplyParameters = new ReplyParameters { MessageId = 7 },
            ReplyMarkup = new InlineKeyboardMarkup(InlineKeyboardButton.WithCallbackData("Yes", "y")),
        });

        Assert.Equal("sendMessage", method);
        using var json = JsonDocument.Parse(payload);
        Assert.Equal(42, json.RootElement.GetProperty("chat_id").GetInt64());
        Assert.Equal("hi", json.RootElement.GetProperty("text").GetString());
        Assert.Equal(7, json.RootElement.GetProperty("reply_parameters").GetProperty("message_id").GetInt32());
        Assert.Equal("y", json.RootElement.GetProperty("reply_markup").GetProperty("inline_keyboard")[0][0].GetProperty("callback_data").GetString());
    }

    [Fact]
    public void Only_methods_the_sender_knows_can_be_queued()
    {
        Assert.Throws<ArgumentException>(() => OutboxCodec.Encode(new GetChatMemberRequest { ChatId = 1, UserId = 2 }));
    }
}
