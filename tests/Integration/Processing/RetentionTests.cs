using System.Text.Json;
using Bot.Processing;
using Bot.Storage;
using Bot.Tests.Integration.Infrastructure;
using Npgsql;

namespace Bot.Tests.Integration.Processing;

/// <summary>
/// Every growing table is bounded by the leader's purge, which runs when a replica takes the lead: handled updates,
/// dead-lettered updates, sent and dead outbox messages, join decisions, expired conversation state and flood
/// windows past their retention go; newer rows, unfinished rows and what a broadcast still reads stay.
/// </summary>
public sealed class RetentionTests(SharedPostgres postgres)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Rows_past_their_retention_are_purged_and_newer_unfinished_and_still_needed_rows_stay()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>
        {
            // Processing__RetentionHours keeps its default of 48.
            ["Processing__DeadLetterRetentionDays"] = "10",
            ["Outbox__RetentionHours"] = "24",
            ["Bot__JoinDecisionRetentionDays"] = "30",
        });
        var connectionString = settings["Database__ConnectionString"]!;
        await PostgresCluster.ExecuteAsync(connectionString, $$"""
            -- The inbox: handled updates after 48 hours, dead ones after 10 days, unfinished ones never.
            INSERT INTO inbox (update_id, chat_id, kind, payload, state, attempts, processed_at, last_error) VALUES
                (1, 1, 'message', '{}', 'done', 1, now() - interval '49 hours', NULL),
                (2, 1, 'message', '{}', 'done', 1, now() - interval '47 hours', NULL),
                (3, 2, 'message', '{}', 'dead', 5, now() - interval '9 days', 'boom'),
                (4, 2, 'message', '{}', 'dead', 5, now() - interval '11 days', 'boom');
            INSERT INTO inbox (update_id, chat_id, kind, payload, state, attempts, processed_at)
            SELECT 1000 + n, n % 100, 'message', '{}', 'done', 1, now() - interval '3 days' - n * interval '1 second' FROM generate_series(1, 12000) n;
            -- Dead letters among the old handled updates (in the purge's index order): they outlive them.
            INSERT INTO inbox (update_id, chat_id, kind, payload, state, attempts, processed_at, last_error)
            SELECT 100000 + n, 500 + n, 'message', '{}', 'dead', 5, now() - interval '3 days' - n * interval '240 seconds', 'boom' FROM generate_series(1, 50) n;
            -- A pending update received a month ago: handled now, not purged.
            INSERT INTO inbox (update_id, chat_id, kind, payload, received_at) VALUES (5, 3, 'message', '{{Updates.Message(5, 3, "/help")}}', now() - interval '30 days');

            -- Broadcasts: 1 runs (a message still waits), 2 ended an hour ago, 3 ended 30 hours ago.
            INSERT INTO broadcasts (id, from_chat_id, message_id, state, expanded, status_outbox_id, finished_at) OVERRIDING SYSTEM VALUE VALUES
                (1, 1, 1, 'running', true, 2000001, NULL),
                (2, 1, 2, 'done', true, NULL, now() - interval '1 hour'),
                (3, 1, 3, 'done', true, 2000005, now() - interval '30 hours');
            -- The outbox, kept 24 hours after sending.
            INSERT INTO outbox (id, chat_id, method, payload, priority, state, not_before, result, broadcast_id, created_at, sent_at) OVERRIDING SYSTEM VALUE VALUES
                (2000001, 9, 'sendMessage', '{}', 0, 'sent', now(), '{"message_id":5}', NULL, now() - interval '26 hours', now() - interval '25 hours'),
                (2000002, 9, 'sendMessage', '{}', 0, 'sent', now(), '{"message_id":6}', NULL, now() - interval '26 hours', now() - interval '25 hours'),
                (2000003, 9, 'sendMessage', '{}', 0, 'dead', now(), NULL, NULL, now() - interval '26 hours', now() - interval '25 hours'),
                (2000004, 9, 'sendMessage', '{}', 0, 'sent', now(), '{"message_id":7}', NULL, now() - interval '24 hours', now() - interval '23 hours'),
                (2000005, 9, 'sendMessage', '{}', 0, 'sent', now(), '{"message_id":8}', NULL, now() - interval '32 hours', now() - interval '31 hours'),
                (2000006, 10, 'copyMessage', '{}', 1, 'pending', now() + interval '1 day', NULL, 1, now() - interval '30 days', NULL),
                (2000007, 11, 'copyMessage', '{}', 1, 'sent', now(), '{"message_id":9}', 2, now() - interval '26 hours', now() - interval '25 hours'),
                (2000008, 12, 'copyMessage', '{}', 1, 'dead', now(), NULL, 3, now() - interval '32 hours', now() - interval '31 hours');
            -- 12,000 old messages, every hundredth of the running broadcast (those stay, between the others).
            INSERT INTO outbox (id, chat_id, method, payload, priority, state, result, broadcast_id, created_at, sent_at) OVERRIDING SYSTEM VALUE
            SELECT 3000000 + n, 20000 + n, 'copyMessage', '{}', 1, 'sent', '{"message_id":1}', CASE WHEN n % 100 = 0 THEN 1 END,
                   now() - interval '3 days', now() - interval '2 days' - n * interval '1 second'
            FROM generate_series(1, 12000) n;

            -- Join decisions, kept 30 days; an open request, however old, stays.
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, reason, deadline, decided_at) VALUES
                (-100, 1, 1, 9001, now() - interval '31 days', 'approved', 'member', NULL, now() - interval '31 days'),
                (-100, 2, 2, 9002, now() - interval '31 days', 'declined', 'timeout', NULL, now() - interval '31 days'),
                (-100, 3, 3, 9003, now() - interval '29 days', 'declined', 'wrong_answer', NULL, now() - interval '29 days'),
                (-100, 4, 4, 9004, now() - interval '400 days', 'pending', NULL, NULL, NULL);

            INSERT INTO conversation_state (chat_id, user_id, key, value, expires_at) VALUES
                (1, 1, 'expired', '{}', now() - interval '1 minute'), (1, 1, 'kept', '{}', NULL);
            INSERT INTO flood_windows (user_id, window_start, updates) VALUES (1, now() - interval '2 days', 3), (2, now(), 3);
            -- Flood warnings, kept 30 days; raid periods, kept the decisions' 30 days after they ended.
            INSERT INTO flood_warnings (chat_id, user_id, warned_at) VALUES (-100, 1, now() - interval '31 days'), (-100, 2, now() - interval '29 days');
            INSERT INTO gate_raid_periods (chat_id, started_at, until) VALUES
                (-100, now() - interval '32 days', now() - interval '31 days'), (-100, now() - interval '40 days', now() - interval '29 days');
            """);

        await using var bot = BotProcess.Start(settings);
        await bot.WaitReadyAsync();
        await bot.WaitForLeadershipAsync();

        // The flood windows go last in a pass: once the old one is gone, every table has been purged once.
        var deadline = DateTime.UtcNow + Wait;
        while (await ScalarAsync(connectionString, "SELECT count(*) FROM flood_windows") != 1
            || await ScalarAsync(connectionString, "SELECT count(*) FROM flood_warnings") != 1
            || await ScalarAsync(connectionString, "SELECT count(*) FROM gate_raid_periods") != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, bot.Output);
            await Task.Delay(200);
        }

        Assert.Equal(new long[] { 2, 3, 5 }, await IdsAsync(connectionString, "SELECT update_id FROM inbox WHERE update_id < 1000 ORDER BY 1"));
        Assert.Equal(0, await ScalarAsync(connectionString, "SELECT count(*) FROM inbox WHERE update_id BETWEEN 1001 AND 13000"));
        Assert.Equal(50, await ScalarAsync(connectionString, "SELECT count(*) FROM inbox WHERE update_id > 100000 AND state = 'dead'"));

        Assert.Equal(new long[] { 2000001, 2000004, 2000006, 2000007 }, await IdsAsync(connectionString, "SELECT id FROM outbox WHERE id BETWEEN 2000000 AND 2999999 ORDER BY 1"));
        Assert.Equal(120, await ScalarAsync(connectionString, "SELECT count(*) FROM outbox WHERE id > 3000000"));
        Assert.Equal(120, await ScalarAsync(connectionString, "SELECT count(*) FROM outbox WHERE id > 3000000 AND broadcast_id = 1"));

        Assert.Equal(new long[] { 3, 4 }, await IdsAsync(connectionString, "SELECT user_id FROM join_requests ORDER BY 1"));
        Assert.Equal(1, await ScalarAsync(connectionString, "SELECT count(*) FROM conversation_state WHERE key = 'kept'"));
        Assert.Equal(0, await ScalarAsync(connectionString, "SELECT count(*) FROM conversation_state WHERE key = 'expired'"));
        Assert.Equal(2, await ScalarAsync(connectionString, "SELECT user_id FROM flood_windows"));
        Assert.Equal(2, await ScalarAsync(connectionString, "SELECT user_id FROM flood_warnings"));
        Assert.Equal(1, await ScalarAsync(connectionString, "SELECT count(*) FROM gate_raid_periods WHERE until > now() - interval '30 days'"));

        foreach (var line in new[]
        {
            "Purged 12001 handled updates past their retention", "Purged 1 dead-lettered updates past their retention",
            "Purged 11884 sent and dead outbox messages past their retention", "Purged 2 join decisions past their retention",
            "Purged 1 expired conversation states past their retention", "Purged 1 flood-control windows past their retention",
            "Purged 1 flood warnings past their retention", "Purged 1 gate raid periods past their retention",
        })
        {
            Assert.Contains(line, bot.Output, StringComparison.Ordinal);
        }

        // The running broadcast's counts, taken from the outbox, still see every message it sent.
        await WaitForAsync(connectionString, "SELECT sent FROM broadcasts WHERE id = 1 AND state = 'running'", 120, bot);
        await Task.Delay(1500);
        Assert.Equal(120, await ScalarAsync(connectionString, "SELECT sent FROM broadcasts WHERE id = 1 AND state = 'running'"));
        // The pending update was handled, and its handled row is new.
        Assert.Equal(1, await ScalarAsync(connectionString, "SELECT count(*) FROM inbox WHERE update_id = 5 AND state = 'done'"));
    }

    [Fact]
    public async Task The_outbox_purge_reads_its_index_in_order_and_each_batch_starts_where_the_last_one_ended()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        var connectionString = settings["Database__ConnectionString"]!;
        // 100,000 queued messages and 50,000 recent ones, which the purge must not read; 20,000 old ones, the oldest
        // 10,000 of a running broadcast (kept), then 10,000 to purge.
        await PostgresCluster.ExecuteAsync(connectionString, """
            INSERT INTO broadcasts (id, from_chat_id, message_id, state) OVERRIDING SYSTEM VALUE VALUES (1, 1, 1, 'running');
            INSERT INTO outbox (chat_id, method, payload, priority) SELECT n, 'copyMessage', '{}', 1 FROM generate_series(1, 100000) n;
            INSERT INTO outbox (chat_id, method, payload, state, sent_at) SELECT n, 'sendMessage', '{}', 'sent', now() - n * interval '1 second' FROM generate_series(1, 50000) n;
            INSERT INTO outbox (chat_id, method, payload, state, broadcast_id, sent_at)
            SELECT n, 'copyMessage', '{}', 'sent', CASE WHEN n <= 10000 THEN 1 END, now() - interval '10 days' + n * interval '1 second' FROM generate_series(1, 20000) n;
            ANALYZE outbox;
            ANALYZE broadcasts;
            """);
        var retention = TimeSpan.FromHours(48);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        var first = await Retention.RunBatchAsync(dataSource, OutboxSql, retention, Retention.Start, 5000, CancellationToken.None);
        Assert.Equal(5000, first.Deleted);
        Assert.NotNull(first.Last);

        // The second batch reads the index from the first one's end: not the 10,000 kept rows before it again.
        await using var connection = await dataSource.OpenConnectionAsync();
        var plan = await ExplainAsync(connection, OutboxSql,
            new NpgsqlParameter<double> { TypedValue = retention.TotalSeconds }, new NpgsqlParameter<DateTimeOffset> { TypedValue = first.Last!.Value },
            new NpgsqlParameter<int> { TypedValue = 5000 });
        var nodes = Nodes(plan[0].GetProperty("Plan")).ToList();
        // The outbox is read by that index only, and its rows deleted by primary key.
        foreach (var node in nodes.Where(n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "outbox"
                     && n.GetProperty("Node Type").GetString() != "ModifyTable"))
        {
            var index = node.TryGetProperty("Index Name", out var name) ? name.GetString() : null;
            Assert.True(node.GetProperty("Node Type").GetString() == "Index Scan" && index is "outbox_finished_at" or "outbox_pkey",
                $"the outbox read otherwise than by outbox_finished_at or its primary key:\n{plan}");
        }

        var scan = Assert.Single(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() == "outbox_finished_at");
        var read = (scan.GetProperty("Actual Rows").GetDouble() + (scan.TryGetProperty("Rows Removed by Filter", out var removed) ? removed.GetDouble() : 0))
            * scan.GetProperty("Actual Loops").GetDouble();
        Assert.True(read <= 5001, $"the index scan read {read} rows:\n{plan}");

        var second = await Retention.RunBatchAsync(dataSource, OutboxSql, retention, first.Last!.Value, 5000, CancellationToken.None);
        var third = await Retention.RunBatchAsync(dataSource, OutboxSql, retention, second.Last!.Value, 5000, CancellationToken.None);
        Assert.Equal((5000, 0), (second.Deleted, third.Deleted));
        Assert.Equal(10_000, await ScalarAsync(connectionString, "SELECT count(*) FROM outbox WHERE sent_at < now() - interval '2 days'"));
        Assert.Equal(10_000, await ScalarAsync(connectionString, "SELECT count(*) FROM outbox WHERE broadcast_id = 1"));
        Assert.Equal(150_000, await ScalarAsync(connectionString, "SELECT count(*) FROM outbox WHERE broadcast_id IS NULL"));
    }

    /// <summary>The outbox purge's batch statement as the bot composes it, with the broadcasts' hold.</summary>
    private static readonly string OutboxSql = Bot.Outbox.OutboxPurge.BatchSql([new Bot.Features.Broadcasts.BroadcastRetentionHold()]);

    private static IEnumerable<JsonElement> Nodes(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray().SelectMany(Nodes))
            {
                yield return child;
            }
        }
    }

    /// <summary>EXPLAIN (ANALYZE, FORMAT JSON) of a statement, run in a transaction that is rolled back.</summary>
    private static async Task<JsonElement> ExplainAsync(NpgsqlConnection connection, string sql, params NpgsqlParameter[] parameters)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        var json = (string)(await command.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private static Task<long> ScalarAsync(string connectionString, string sql) => PostgresCluster.ScalarAsync(connectionString, sql);

    private static async Task<long[]> IdsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return [.. ids];
    }

    private static async Task WaitForAsync(string connectionString, string sql, long expected, BotProcess bot)
    {
        var deadline = DateTime.UtcNow + Wait;
        long last;
        while ((last = await ScalarAsync(connectionString, sql)) < expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{sql} reached {last}, not {expected}:\n{bot.Output}");
            await Task.Delay(200);
        }
    }
}
