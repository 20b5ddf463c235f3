using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Processing;

/// <summary><c>Bot deadletters list|requeue|drop</c> against a running bot: what an operator sees and what happens.</summary>
public sealed class DeadLettersCommandTests(SharedPostgres postgres)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Dead_updates_are_listed_a_requeued_one_is_handled_and_dropped_ones_are_gone()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>(),
            new FakeTelegramOptions { RateLimits = new RateLimits { Global = null, PrivateChat = null, GroupChat = null } });
        await PostgresCluster.ExecuteAsync(group.ConnectionString, $$"""
            INSERT INTO inbox (update_id, chat_id, kind, payload, state, attempts, processed_at, last_error) VALUES
                (101, 5, 'message', '{{Updates.Message(101, 5, "/help")}}', 'dead', 5, date_trunc('second', now() - interval '3 days'), E'handler failed:\nInvalidOperationException: boom'),
                (102, 6, 'message', '{{Updates.Message(102, 6, "/help")}}', 'dead', 3, date_trunc('second', now() - interval '2 days'), 'the handler did not finish in 3 attempts'),
                (103, 7, 'my_chat_member', '{}', 'dead', 5, date_trunc('second', now() - interval '1 hour'), NULL),
                (104, NULL, 'message', '{}', 'done', 1, now(), NULL),
                (105, 8, 'message', '{}', 'done', 1, now(), NULL),
                (107, 10, 'message', '{}', 'done', 1, now() - interval '4 days', NULL);
            """);
        var bot = await group.StartAsync();
        // The leader's purge takes the handled update older than Processing__RetentionHours (48); dead letters of
        // three days stay (Processing__DeadLetterRetentionDays, 14).
        await bot.WaitForLeadershipAsync();
        var purged = DateTime.UtcNow + Wait;
        while (await group.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 107") > 0)
        {
            Assert.True(DateTime.UtcNow < purged, bot.Output);
            await Task.Delay(100);
        }

        var since = new Dictionary<long, string>();
        foreach (var id in new[] { 101, 102, 103 })
        {
            since[id] = await TextAsync(group, $"SELECT to_char(processed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"') FROM inbox WHERE update_id = {id}");
        }

        var list = await RunAsync(group, "deadletters", "list");
        Assert.Equal(0, list.ExitCode);
        var lines = list.Stdout.TrimEnd().Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("update_id", lines[0], StringComparison.Ordinal);
        // Newest first, one line each: id, kind, chat, attempts, dead since, error (on one line).
        Assert.Matches($@"^103\s+my_chat_member\s+7\s+5\s+{since[103]}\s+-$", lines[1]);
        Assert.Matches($@"^102\s+message\s+6\s+3\s+{since[102]}\s+the handler did not finish in 3 attempts$", lines[2]);
        Assert.Matches($@"^101\s+message\s+5\s+5\s+{since[101]}\s+handler failed: InvalidOperationException: boom$", lines[3]);
        Assert.Equal("3 of 3 dead updates", lines[4]);

        var some = await RunAsync(group, "deadletters", "list", "--kind", "message", "--limit", "1");
        Assert.Equal(0, some.ExitCode);
        Assert.Matches(@"\n102\s+message\s", some.Stdout);
        Assert.DoesNotContain("\n101 ", some.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 of 2 dead updates of kind message", some.Stdout, StringComparison.Ordinal);

        // Requeued: pending again with its attempts from zero, and handled (its reply is sent).
        var requeue = await RunAsync(group, "deadletters", "requeue", "101");
        Assert.Equal(0, requeue.ExitCode);
        Assert.Equal("requeued 1 dead updates", requeue.Stdout.Trim());
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE update_id = 101 AND state = 'done' AND attempts = 1", 1, Wait);
        await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", 5);

        // An id that is not a dead letter (now handled, or unknown) is named and left alone; exit 1.
        var again = await RunAsync(group, "deadletters", "requeue", "101", "999");
        Assert.Equal(1, again.ExitCode);
        Assert.Equal("requeued 0 dead updates", again.Stdout.Trim());
        Assert.Equal("Bot: not dead letters (no dead update with these ids), left alone: 101, 999", again.Stderr.Trim());
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 101 AND state = 'done'"));

        // Dropped by kind: only the dead rows of that kind; handled rows are never touched.
        var dropKind = await RunAsync(group, "deadletters", "drop", "--all", "--kind", "my_chat_member");
        Assert.Equal(0, dropKind.ExitCode);
        Assert.Equal("dropped 1 dead updates", dropKind.Stdout.Trim());
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 103"));

        // All that are left, requeued: handled.
        var all = await RunAsync(group, "deadletters", "requeue", "--all");
        Assert.Equal(0, all.ExitCode);
        Assert.Equal("requeued 1 dead updates", all.Stdout.Trim());
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE update_id = 102 AND state = 'done'", 1, Wait);
        await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", 6);

        // Nothing dead is left; drop --all changes no handled row.
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            "INSERT INTO inbox (update_id, chat_id, kind, payload, state, attempts, processed_at, last_error) VALUES (106, 9, 'message', '{}', 'dead', 5, now(), 'x')");
        var drop = await RunAsync(group, "deadletters", "drop", "106");
        Assert.Equal((0, "dropped 1 dead updates"), (drop.ExitCode, drop.Stdout.Trim()));
        var dropAll = await RunAsync(group, "deadletters", "drop", "--all");
        Assert.Equal((0, "dropped 0 dead updates"), (dropAll.ExitCode, dropAll.Stdout.Trim()));
        Assert.Equal(4, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id IN (101, 102, 104, 105) AND state = 'done'"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM inbox_heads"));
        var empty = await RunAsync(group, "deadletters", "list");
        Assert.EndsWith("0 of 0 dead updates", empty.Stdout.Trim(), StringComparison.Ordinal);
        Assert.False(bot.HasExited);
    }

    [Theory]
    [InlineData("deadletters")]
    [InlineData("deadletters", "show")]
    [InlineData("deadletters", "list", "--limit", "0")]
    [InlineData("deadletters", "list", "--limit", "many")]
    [InlineData("deadletters", "list", "--all")]
    [InlineData("deadletters", "list", "101")]
    [InlineData("deadletters", "requeue")]
    [InlineData("deadletters", "requeue", "--all", "101")]
    [InlineData("deadletters", "requeue", "101", "--kind", "message")]
    [InlineData("deadletters", "requeue", "-5")]
    [InlineData("deadletters", "drop", "--kind", "message")]
    [InlineData("deadletters", "drop", "--all", "--kind")]
    public async Task Wrong_arguments_are_a_usage_error_on_one_line(params string[] args)
    {
        // No database is needed to refuse them.
        var settings = BotProcess.Settings("Host=127.0.0.1;Port=9;Username=nobody;Database=none");
        var (exitCode, stdout, stderr) = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(30), args);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.StartsWith("Bot: usage: Bot deadletters", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task A_missing_connection_string_is_a_configuration_error_and_an_unreachable_database_another_failure()
    {
        var missing = BotProcess.Settings("");
        missing.Remove("Database__ConnectionString");
        var configuration = await BotProcess.RunAsync(missing, TimeSpan.FromSeconds(30), "deadletters", "list");
        Assert.Equal(3, configuration.ExitCode);
        Assert.StartsWith("Bot: configuration error: Database:ConnectionString", configuration.Stderr, StringComparison.Ordinal);

        var unreachable = await BotProcess.RunAsync(
            BotProcess.Settings("Host=127.0.0.1;Port=9;Username=nobody;Database=none;Timeout=2"), TimeSpan.FromSeconds(30), "deadletters", "requeue", "--all");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("Bot: database error:", unreachable.Stderr, StringComparison.Ordinal);
        Assert.Single(unreachable.Stderr.TrimEnd().Split('\n'));
    }

    private static async Task<string> TextAsync(BotGroup group, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(group.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(BotGroup group, params string[] args) =>
        BotProcess.RunAsync(group.Settings, TimeSpan.FromSeconds(60), args);
}
