using System.Text;
using System.Text.Json;
using Bot.Telegram;
using Telegram.Bot.Types;

namespace Bot.Tests.Unit.Telegram;

public sealed class UpdateClassifierTests
{
    [Theory]
    [InlineData("""{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"}}}""", "message", 42L)]
    [InlineData("""{"update_id":1,"edited_message":{"message_id":1,"date":1,"chat":{"id":-100,"type":"supergroup"}}}""", "edited_message", -100L)]
    [InlineData("""{"update_id":1,"callback_query":{"id":"q","from":{"id":7,"is_bot":false,"first_name":"A"},"chat_instance":"c","message":{"message_id":3,"date":1,"chat":{"id":55,"type":"private"}}}}""", "callback_query", 55L)]
    [InlineData("""{"update_id":1,"callback_query":{"id":"q","from":{"id":7,"is_bot":false,"first_name":"A"},"chat_instance":"c","inline_message_id":"i"}}""", "callback_query", 7L)]
    [InlineData("""{"update_id":1,"chat_join_request":{"chat":{"id":-100,"type":"supergroup"},"from":{"id":7,"is_bot":false,"first_name":"A"},"user_chat_id":7,"date":1}}""", "chat_join_request", 7L)]
    [InlineData("""{"update_id":1,"my_chat_member":{"chat":{"id":-5,"type":"group"},"from":{"id":7,"is_bot":false,"first_name":"A"},"date":1,"old_chat_member":{"status":"left","user":{"id":9,"is_bot":true,"first_name":"B"}},"new_chat_member":{"status":"member","user":{"id":9,"is_bot":true,"first_name":"B"}}}}""", "my_chat_member", -5L)]
    [InlineData("""{"update_id":1,"inline_query":{"id":"q","from":{"id":8,"is_bot":false,"first_name":"A"},"query":"","offset":""}}""", "inline_query", 8L)]
    [InlineData("""{"update_id":1,"poll":{"id":"p","question":"?","options":[],"total_voter_count":0,"is_closed":false,"is_anonymous":true,"type":"regular","allows_multiple_answers":false}}""", "poll", null)]
    public void Kind_is_telegrams_field_name_and_the_key_is_the_conversation(string json, string kind, long? chat)
    {
        var update = Parse(json);

        Assert.Equal(kind, UpdateClassifier.Kind(update, Encoding.UTF8.GetBytes(json)));
        Assert.Equal(chat, UpdateClassifier.ChatKey(update));
    }

    [Fact]
    public void A_kind_newer_than_the_library_keeps_its_own_name()
    {
        const string json = """{"update_id":1,"some_future_update":{"x":1}}""";

        Assert.Equal("some_future_update", UpdateClassifier.Kind(Parse(json), Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void An_unknown_field_name_that_is_not_a_plain_name_is_not_trusted_as_a_kind()
    {
        const string json = """{"update_id":1,"Robert'); DROP TABLE inbox;--":{"x":1}}""";

        Assert.Equal("unknown", UpdateClassifier.Kind(Parse(json), Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void A_message_without_a_chat_has_no_key_instead_of_throwing()
    {
        Assert.Null(UpdateClassifier.ChatKey(Parse("""{"update_id":1,"message":{"message_id":1,"date":1}}""")));
    }

    [Theory]
    [InlineData("ChatJoinRequest", "chat_join_request")]
    [InlineData("Message", "message")]
    [InlineData("MessageReactionCount", "message_reaction_count")]
    public void Enum_names_become_snake_case(string pascal, string snake) =>
        Assert.Equal(snake, UpdateClassifier.ToSnakeCase(pascal));

    private static Update Parse(string json) => JsonSerializer.Deserialize(json, Bot.Telegram.TelegramJson.Update)!;
}
