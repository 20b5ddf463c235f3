using Bot.Hosting;
using Bot.Processing;

namespace Bot.Tests.Unit.Processing;

public sealed class DeadLettersArgumentsTests
{
    [Fact]
    public void Deadletters_arguments_select_ids_or_all_of_a_kind()
    {
        Assert.Equal(new DeadLettersCommand.Selection(null, null, 20), DeadLettersCommand.Parse("list", []));
        var list = DeadLettersCommand.Parse("list", ["--kind", "callback_query", "--limit", "5"]);
        Assert.Equal(("callback_query", 5), (list.Kind, list.Limit));

        var ids = DeadLettersCommand.Parse("requeue", ["7", "3", "7"]);
        Assert.Equal(new long[] { 7, 3 }, ids.Ids);
        Assert.Null(ids.Kind);

        var all = DeadLettersCommand.Parse("drop", ["--kind", "message", "--all"]);
        Assert.Null(all.Ids);
        Assert.Equal("message", all.Kind);
    }

    [Theory]
    [InlineData("list", "--limit")]
    [InlineData("list", "--limit", "10001")]
    [InlineData("list", "--kind", "a", "--kind", "b")]
    [InlineData("requeue")]
    [InlineData("requeue", "--kind", "message")]
    [InlineData("requeue", "1", "--all")]
    [InlineData("drop", "1", "--kind", "message")]
    [InlineData("drop", "--all", "--all")]
    [InlineData("drop", "1x")]
    public void Deadletters_arguments_that_do_not_fit_are_a_usage_error(string verb, params string[] args)
    {
        var error = Assert.Throws<StartupException>(() => DeadLettersCommand.Parse(verb, args));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.StartsWith("usage: Bot deadletters " + verb, error.Message, StringComparison.Ordinal);
    }
}
