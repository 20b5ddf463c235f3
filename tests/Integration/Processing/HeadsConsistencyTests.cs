using Bot.Outbox;
using Bot.Processing;
using Bot.Tests.Integration.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Bot.Tests.Integration.Processing;

/// <summary>
/// The per-chat heads that claims and takes read are kept by triggers, and the update triggers set again only what a
/// change can move (migration 0020). Six sessions change the inbox and the outbox at once, with the bot's own
/// statements and at random: updates stored in order and out of it (an older update becomes its chat's head while a
/// newer one of the chat is being handled), claimed, completed, failed, released, taken over after their lease ran
/// out; messages queued, taken, sent, dead-lettered, retried, released and cancelled. Afterwards, and after the queues
/// are drained, each heads table must hold exactly what it would if it were worked out from the rows.
/// </summary>
public sealed class HeadsConsistencyTests(SharedPostgres postgres)
{
    private const int Sessions = 6;
    private const int StepsPerSession = 250;
    private const int Chats = 6;

    private const string ExpectedInboxHeads =
        """
        SELECT coalesce(string_agg(k || ':' || update_id || ':' || coalesce(lease_until::text, '-'), E'\n' ORDER BY k), '')
        FROM (SELECT DISTINCT ON (inbox_chat_key(chat_id, update_id)) inbox_chat_key(chat_id, update_id) AS k, update_id, lease_until
              FROM inbox WHERE state IN ('pending', 'processing') ORDER BY 1, update_id) e
        """;

    private const string ActualInboxHeads =
        "SELECT coalesce(string_agg(chat_key || ':' || update_id || ':' || coalesce(lease_until::text, '-'), E'\\n' ORDER BY chat_key), '') FROM inbox_heads";

    private const string ExpectedOutboxHeads =
        """
        SELECT coalesce(string_agg(chat_id || ':' || id || ':' || priority || ':' || not_before || ':' || paid, E'\n' ORDER BY chat_id), '')
        FROM (SELECT DISTINCT ON (chat_id) chat_id, id, priority, not_before, paid
              FROM outbox WHERE state = 'pending' ORDER BY chat_id, priority, id) e
        """;

    private const string ActualOutboxHeads =
        "SELECT coalesce(string_agg(chat_id || ':' || id || ':' || priority || ':' || not_before || ':' || paid, E'\\n' ORDER BY chat_id), '') FROM outbox_heads";

    private long newer = 1_000_000;
    private long older = 999_999;

    [Fact]
    public async Task Heads_match_the_rows_after_concurrent_claims_completions_takes_and_settles()
    {
        var (connectionString, dataSource) = await CreateQueuesAsync();
        await using var _ = dataSource;
        var claims = new InboxClaims(dataSource);
        var queue = new OutboxQueue(dataSource, 1, [], TimeProvider.System, NullLogger.Instance);
        var counts = new int[16];
        await Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => Task.Run(() => SessionAsync(s, dataSource, claims, queue, counts))));

        // Every kind of step ran, or the test proves less than it says.
        Assert.All(counts, c => Assert.True(c > 0, string.Join(", ", counts)));
        await AssertHeadsAsync(connectionString, "after the concurrent steps");

        // Drained: every update handled and every message settled, through the heads alone.
        await using (var expire = dataSource.CreateCommand("UPDATE inbox SET lease_until = now() - interval '1 second' WHERE state <> 'done' AND state <> 'dead'"))
        {
            await expire.ExecuteNonQueryAsync();
        }

        await using (var due = dataSource.CreateCommand("UPDATE outbox SET not_before = now() - interval '1 second' WHERE state = 'pending'"))
        {
            await due.ExecuteNonQueryAsync();
        }

        await using (var unsent = dataSource.CreateCommand("UPDATE outbox SET state = 'dead' WHERE state = 'sending'"))
        {
            await unsent.ExecuteNonQueryAsync();
        }

        for (var round = 0; round < 10_000; round++)
        {
            var claimed = await claims.ClaimAsync(16, "drain", TimeSpan.FromSeconds(30), 1_000, CancellationToken.None);
            var taken = await queue.TakeHeadsAsync([], 16, 16, 32, CancellationToken.None);
            if (claimed.Count == 0 && taken.Count == 0)
            {
                break;
            }

            await CompleteAsync(dataSource, claimed.Where(c => !c.DeadLettered).ToList(), "drain");
            await SettleAsync(queue, taken, "sent");
        }

        await AssertHeadsAsync(connectionString, "after draining");
        Assert.Equal(0, await PostgresCluster.ScalarAsync(connectionString, "SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')"));
        Assert.Equal(0, await PostgresCluster.ScalarAsync(connectionString, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"));
        Assert.Equal(0, await PostgresCluster.ScalarAsync(connectionString, "SELECT count(*) FROM inbox_heads"));
        Assert.Equal(0, await PostgresCluster.ScalarAsync(connectionString, "SELECT count(*) FROM outbox_heads"));
    }

    [Fact]
    public async Task Heads_follow_each_change_that_can_move_them_and_only_those()
    {
        var (connectionString, dataSource) = await CreateQueuesAsync();
        await using var _ = dataSource;
        var claims = new InboxClaims(dataSource);
        var queue = new OutboxQueue(dataSource, 1, [], TimeProvider.System, NullLogger.Instance);
        async Task StepAsync(string what, string sql = "")
        {
            if (sql.Length > 0)
            {
                await using var command = dataSource.CreateCommand(sql);
                await command.ExecuteNonQueryAsync();
            }

            await AssertHeadsAsync(connectionString, $"after {what}");
        }

        // Inbox: chat 1 has 10 and 20, chat 2 has 30; an update without a chat, 40.
        await StepAsync("the inserts", "INSERT INTO inbox (update_id, chat_id, kind, payload) VALUES (10, 1, 'message', '{}'), (20, 1, 'message', '{}'), (30, 2, 'message', '{}'), (40, NULL, 'message', '{}')");
        var first = await claims.ClaimAsync(3, "a", TimeSpan.FromSeconds(30), 5, CancellationToken.None);
        Assert.Equal([10L, 30L, 40L], first.Select(c => c.UpdateId));
        await StepAsync("the claim");
        // An older update of chat 1 arrives while 10 is being handled: it becomes the head, and the changes of 10
        // that follow (a retry time, a release, a lease run out) must leave it so.
        await StepAsync("an older update", "INSERT INTO inbox (update_id, chat_id, kind, payload) VALUES (5, 1, 'message', '{}')");
        await claims.FailAsync(first[0], "a", "failed", 5, TimeSpan.FromSeconds(7), CancellationToken.None);
        await StepAsync("a failure of a row that is no longer the head");
        await StepAsync("a lease run out of a row that is no longer the head", "UPDATE inbox SET state = 'processing', lease_owner = 'a', lease_until = now() - interval '1 second' WHERE update_id = 10");
        await claims.ReleaseAsync([10], "a", CancellationToken.None);
        await StepAsync("a release of a row that is no longer the head");
        await claims.FailAsync(first[1], "a", "failed", 5, TimeSpan.FromSeconds(3), CancellationToken.None);
        await StepAsync("a failure of a head");
        await claims.ReleaseOrphansAsync([40], "a", CancellationToken.None);
        await StepAsync("an orphan given back");
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var claimed = await claims.ClaimAsync(4, "b", TimeSpan.FromSeconds(30), 5, CancellationToken.None);
            Assert.Contains(claimed, c => c.UpdateId == 5);
            Assert.Equal(claimed.Count, await InboxClaims.CompleteAllAsync(connection, transaction, claimed, "b", [], CancellationToken.None));
            await transaction.CommitAsync();
        }

        await StepAsync("completions");
        await StepAsync("a dead-lettered head", "UPDATE inbox SET state = 'dead' WHERE update_id = 10");
        await StepAsync("a requeued dead letter", "UPDATE inbox SET state = 'pending', lease_until = NULL WHERE update_id = 10");

        // Outbox: chat 7 has 1 (bulk), 2 and 3 (interactive, so 2 is the head); chat 8 has 4.
        await StepAsync("the messages", """
            INSERT INTO outbox (chat_id, method, payload, priority, not_before) VALUES
                (7, 'sendMessage', '{}', 1, now() - interval '1 minute'), (7, 'sendMessage', '{}', 0, now() - interval '1 minute'),
                (7, 'sendMessage', '{}', 0, now() - interval '1 minute'), (8, 'sendMessage', '{}', 0, now() - interval '1 minute')
            """);
        var taken = await queue.TakeHeadsAsync([], 4, 0, 4, CancellationToken.None);
        Assert.Equal(2, taken.Count);
        await StepAsync("the take");
        await SettleAsync(queue, [taken[0]], "sent");
        await StepAsync("a send settled");
        await SettleAsync(queue, [taken[1]], "retry");
        await StepAsync("a send to retry");
        await StepAsync("a pending row that is not the head dead-lettered", "UPDATE outbox SET state = 'dead' WHERE id = (SELECT max(id) FROM outbox WHERE chat_id = 7 AND state = 'pending' AND priority = 1)");
        await StepAsync("a head dead-lettered", "UPDATE outbox SET state = 'dead' WHERE id = (SELECT id FROM outbox_heads WHERE chat_id = 7)");
        await StepAsync("a pending row moved to another chat", "UPDATE outbox SET chat_id = 9 WHERE chat_id = 8 AND state = 'pending'");
        await StepAsync("a priority changed", "UPDATE outbox SET priority = 1 WHERE chat_id = 9");
        await StepAsync("a cancel", "DELETE FROM outbox WHERE state = 'pending'");
        Assert.Equal(0, await PostgresCluster.ScalarAsync(connectionString, "SELECT count(*) FROM outbox_heads"));
    }

    /// <summary>A migrated database whose sender term 1 is the current one, and a data source on it.</summary>
    private async Task<(string ConnectionString, NpgsqlDataSource DataSource)> CreateQueuesAsync()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        var connectionString = settings["Database__ConnectionString"]!;
        var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var begin = dataSource.CreateCommand($"INSERT INTO leader_epochs (name, epoch, holder) VALUES ('{Bot.Coordination.LeaderEpochs.Name}', 1, 'heads-test')");
        await begin.ExecuteNonQueryAsync();
        return (connectionString, dataSource);
    }

    private async Task SessionAsync(int session, NpgsqlDataSource dataSource, InboxClaims claims, OutboxQueue queue, int[] counts)
    {
        var random = new Random(20_261_207 + session);
        var owner = $"session-{session}";
        var held = new List<ClaimedUpdate>();
        var sending = new List<OutboxRow>();
        for (var step = 0; step < StepsPerSession; step++)
        {
            var kind = random.Next(16);
            Interlocked.Increment(ref counts[kind]);
            switch (kind)
            {
                case 0 or 1 or 2:
                    // Updates in order, one to three in a statement, some without a chat.
                    await InsertUpdatesAsync(dataSource, random, () => Interlocked.Increment(ref newer));
                    break;
                case 3:
                    // An update older than everything stored: it becomes its chat's head, ahead of one being handled.
                    await InsertUpdatesAsync(dataSource, random, () => Interlocked.Decrement(ref older));
                    break;
                case 4 or 5:
                    held.AddRange((await claims.ClaimAsync(random.Next(1, 5), owner, TimeSpan.FromSeconds(30), 1_000, CancellationToken.None)).Where(c => !c.DeadLettered));
                    break;
                case 6 or 7:
                    var done = Take(held, random, random.Next(1, 4));
                    await CompleteAsync(dataSource, done, owner);
                    break;
                case 8:
                    foreach (var failed in Take(held, random, 1))
                    {
                        await claims.FailAsync(failed, owner, "failed in the heads test", 1_000, TimeSpan.FromMilliseconds(random.Next(0, 50)), CancellationToken.None);
                    }

                    break;
                case 9:
                    var given = Take(held, random, random.Next(1, 3));
                    if (random.Next(2) == 0)
                    {
                        await claims.ReleaseAsync(given.Select(g => g.UpdateId), owner, CancellationToken.None);
                    }
                    else
                    {
                        await claims.ReleaseOrphansAsync(given.Select(g => g.UpdateId), owner, CancellationToken.None);
                    }

                    break;
                case 10:
                    // A lease that ran out: the update is left processing, for another session to take over.
                    foreach (var lost in Take(held, random, 1))
                    {
                        await using var expire = dataSource.CreateCommand("UPDATE inbox SET lease_until = now() - interval '1 millisecond' WHERE update_id = $1");
                        expire.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lost.UpdateId });
                        await expire.ExecuteNonQueryAsync();
                    }

                    break;
                case 11:
                    await using (var insert = dataSource.CreateCommand(
                        "INSERT INTO outbox (chat_id, method, payload, priority, paid, not_before) SELECT $1, 'sendMessage', '{}', $2, $3, now() - make_interval(secs => $4) FROM generate_series(1, $5)"))
                    {
                        insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = random.Next(1, Chats + 1) });
                        insert.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)random.Next(0, 2) });
                        insert.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = random.Next(3) == 0 });
                        insert.Parameters.Add(new NpgsqlParameter<double> { TypedValue = random.Next(0, 3) });
                        insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = random.Next(1, 4) });
                        await insert.ExecuteNonQueryAsync();
                    }

                    break;
                case 12:
                    sending.AddRange(await queue.TakeHeadsAsync([], random.Next(0, 3), random.Next(0, 3), 4, CancellationToken.None));
                    break;
                case 13:
                    var settled = Take(sending, random, random.Next(1, 4));
                    await SettleAsync(queue, settled, random.Next(4) switch { 0 => "dead", 1 => "retry", _ => "sent" });
                    break;
                case 14:
                    await queue.ReleaseAsync([.. Take(sending, random, random.Next(1, 3)).Select(r => r.Id)], CancellationToken.None);
                    break;
                default:
                    // A cancel: one chat's pending messages deleted, or dead-lettered without being sent.
                    var sql = random.Next(2) == 0
                        ? "DELETE FROM outbox WHERE chat_id = $1 AND state = 'pending' AND id % 2 = 0"
                        : "UPDATE outbox SET state = 'dead', last_error = 'cancelled' WHERE chat_id = $1 AND state = 'pending' AND id % 3 = 0";
                    await using (var cancel = dataSource.CreateCommand(sql))
                    {
                        cancel.Parameters.Add(new NpgsqlParameter<long> { TypedValue = random.Next(1, Chats + 1) });
                        await cancel.ExecuteNonQueryAsync();
                    }

                    break;
            }
        }
    }

    private static async Task InsertUpdatesAsync(NpgsqlDataSource dataSource, Random random, Func<long> nextId)
    {
        var count = random.Next(1, 4);
        var ids = new long[count];
        var chats = new long?[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = nextId();
            chats[i] = random.Next(8) == 0 ? null : random.Next(1, Chats + 1);
        }

        await using var insert = dataSource.CreateCommand(
            "INSERT INTO inbox (update_id, chat_id, kind, payload) SELECT u, c, 'message', '{}' FROM unnest($1::bigint[], $2::bigint[]) AS t(u, c)");
        insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        insert.Parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = chats });
        await insert.ExecuteNonQueryAsync();
    }

    private static async Task CompleteAsync(NpgsqlDataSource dataSource, List<ClaimedUpdate> updates, string owner)
    {
        if (updates.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // A completion whose lease was taken over finds fewer rows than it asked for and is rolled back, as the worker does.
        if (await InboxClaims.CompleteAllAsync(connection, transaction, updates, owner, [], CancellationToken.None) == updates.Count)
        {
            await transaction.CommitAsync();
        }
    }

    /// <summary>Records the calls' outcomes with the sender's own settles (fenced by this term's epoch).</summary>
    private static async Task SettleAsync(OutboxQueue queue, List<OutboxRow> rows, string outcome)
    {
        if (rows.Count == 0)
        {
            return;
        }

        if (outcome == "sent")
        {
            await queue.SettleSentAsync(rows.Select(r => (r.Id, (string?)null)).ToList(), CancellationToken.None);
            return;
        }

        foreach (var row in rows)
        {
            var settlement = outcome == "dead" ? Settlement.Dead("refused") : Settlement.Retry(TimeSpan.Zero, "retried", countsAsAttempt: false);
            await queue.SettleAsync(row, settlement, CancellationToken.None);
        }
    }

    private static List<T> Take<T>(List<T> from, Random random, int count)
    {
        var taken = new List<T>();
        while (taken.Count < count && from.Count > 0)
        {
            var index = random.Next(from.Count);
            taken.Add(from[index]);
            from.RemoveAt(index);
        }

        return taken;
    }

    private static async Task AssertHeadsAsync(string connectionString, string when)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var (inbox, inboxHeads) = (await TextAsync(connection, ExpectedInboxHeads), await TextAsync(connection, ActualInboxHeads));
        Assert.True(inbox == inboxHeads, $"inbox heads {when}:\nexpected\n{inbox}\nactual\n{inboxHeads}");
        var (outbox, outboxHeads) = (await TextAsync(connection, ExpectedOutboxHeads), await TextAsync(connection, ActualOutboxHeads));
        Assert.True(outbox == outboxHeads, $"outbox heads {when}:\nexpected\n{outbox}\nactual\n{outboxHeads}");
    }

    private static async Task<string> TextAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
