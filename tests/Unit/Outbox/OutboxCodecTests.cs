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

    [Fact]
    public void An_album_is_copied_and_deleted_with_one_call_each()
    {
        var (copy, copyPayload) = OutboxCodec.Encode(new CopyMessagesRequest { ChatId = 5, FromChatId = 9, MessageIds = [3, 4, 5] });
        var (delete, deletePayload) = OutboxCodec.Encode(new DeleteMessagesRequest { ChatId = 5, MessageIds = [10, 11, 12] });

        Assert.Equal("copyMessages", copy);
        Assert.Equal("deleteMessages", delete);
        using var copied = JsonDocument.Parse(copyPayload);
        Assert.Equal([3, 4, 5], copied.RootElement.GetProperty("message_ids").EnumerateArray().Select(e => e.GetInt32()));
        using var deleted = JsonDocument.Parse(deletePayload);
        Assert.Equal([10, 11, 12], deleted.RootElement.GetProperty("message_ids").EnumerateArray().Select(e => e.GetInt32()));
    }
}
