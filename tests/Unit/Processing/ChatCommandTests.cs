using Bot.Processing;

namespace Bot.Tests.Unit.Processing;

public sealed class ChatCommandTests
{
    [Theory]
    [InlineData("/start", "start", "")]
    [InlineData("/start ref_42", "start", "ref_42")]
    [InlineData("/Help@MyBot", "help", "")]
    [InlineData("/lang   ru ", "lang", "ru")]
    public void Commands_are_read_with_their_argument(string text, string name, string argument)
    {
        Assert.True(ChatCommand.TryParse(text, "MyBot", out var command));
        Assert.Equal(name, command.Name);
        Assert.Equal(argument, command.Argument);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("hello /start")]
    [InlineData("/start@OtherBot")]
    [InlineData("/стоп")]
    public void Anything_else_is_not_a_command_for_this_bot(string? text) =>
        Assert.False(ChatCommand.TryParse(text, "MyBot", out _));
}
