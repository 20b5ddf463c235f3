using System.Text.Json;
using Bot.Processing;
using Bot.Tests.Integration.Infrastructure;
using Npgsql;

namespace Bot.Tests.Integration.Processing;

/// <summary>
/// The claim and the heads' upkeep cost the same whatever the planner believes: statistics taken while the queue
/// was empty (as autoanalyze does in a quiet period), then a burst of 40,000 pending updates, 10,000 of them in
/// one chat. Each statement's plan may only probe: its buffers stay within a bound set by the claim's size, not
/// by the backlog, and no plan node reads more inbox rows than the claim takes.
/// </summary>
public sealed class ClaimPlanTests(SharedPostgres postgres)
{
    private const int HotChat = 777;
    private const int Limit = 16;

    [Fact]
    public async Task The_claim_and_the_heads_upkeep_probe_after_statistics_of_an_empty_queue()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        await using var connection = new NpgsqlConnection(settings["Database__ConnectionString"]);
        await connection.OpenAsync();
        await ExecuteAsync(connection, """
            INSERT INTO inbox (update_id, chat_id, kind, payload, state, processed_at)
            SELECT n, n % 5000, 'message', '{}', 'done', now() FROM generate_series(1, 60000) n;
            ANALYZE inbox;
            ANALYZE inbox_heads;
            INSERT INTO inbox (update_id, chat_id, kind, payload) SELECT 60000 + n, 100000 + n, 'message', '{}' FROM generate_series(1, 30000) n;
            INSERT INTO inbox (update_id, chat_id, kind, payload) SELECT 90000 + n, 777, 'message', '{}' FROM generate_series(1, 10000) n;
            """);
        Assert.Equal(30_001L, await ScalarAsync(connection, "SELECT count(*) FROM inbox_heads"));
        Assert.Equal(60_001L, await ScalarAsync(connection, "SELECT update_id FROM inbox_heads WHERE chat_key = 100001"));
        Assert.Equal(90_001L, await ScalarAsync(connection, $"SELECT update_id FROM inbox_heads WHERE chat_key = {HotChat}"));

        // The claim: at most Limit rows of the inbox reached, by primary key, and a small number of pages.
        var claim = await ExplainAsync(connection, InboxClaims.ClaimSql,
            new NpgsqlParameter<int> { TypedValue = Limit }, new NpgsqlParameter<string> { TypedValue = "plan-test" },
            new NpgsqlParameter<double> { TypedValue = 30 }, new NpgsqlParameter<int> { TypedValue = 5 });
        AssertProbesOnly(claim, Limit, maxBuffers: 600);

        // The completion of what the claim took: by primary key only, whatever the statistics say.
        var claimedIds = "ARRAY[90001, " + string.Join(", ", Enumerable.Range(1, Limit - 1).Select(n => 60000 + n)) + "]::bigint[]";
        await ExecuteAsync(connection, $"UPDATE inbox SET state = 'processing', lease_owner = 'plan-test', lease_until = now() + interval '1 minute' WHERE update_id = ANY({claimedIds})");
        var complete = await ExplainAsync(connection, InboxClaims.CompleteSql,
            new NpgsqlParameter<long[]> { TypedValue = [90001, .. Enumerable.Range(1, Limit - 1).Select(n => 60000L + n)] },
            new NpgsqlParameter<string> { TypedValue = "plan-test" });
        AssertProbesOnly(complete, Limit, maxBuffers: 600);
        AssertNoIndexBut(complete, "inbox", "inbox_pkey");

        // The upkeep a completion runs (the trigger's function) for the claimed chats and the hot chat: probes only.
        var keys = "ARRAY[777, " + string.Join(", ", Enumerable.Range(1, Limit - 1).Select(n => 100000 + n)) + "]::bigint[]";
        await ExecuteAsync(connection, $"UPDATE inbox SET state = 'done' WHERE update_id IN (90001, {string.Join(", ", Enumerable.Range(1, Limit - 1).Select(n => 60000 + n))})");
        Assert.Equal(90_002L, await ScalarAsync(connection, $"SELECT update_id FROM inbox_heads WHERE chat_key = {HotChat}"));
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM inbox_heads WHERE chat_key BETWEEN 100001 AND 100015"));
        var refresh = await ExplainAsync(connection, $"SELECT inbox_heads_refresh({keys})");
        AssertProbesOnly(refresh, Limit, maxBuffers: 400);

        // The claim's own path through the hot chat: its 9,999 waiting updates are never read.
        var heads = await ScalarAsync(connection, "SELECT count(*) FROM inbox_heads");
        Assert.Equal(30_001L - Limit + 1, heads);
    }

    [Fact]
    public async Task The_senders_take_probes_after_statistics_of_an_empty_outbox()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        await using var connection = new NpgsqlConnection(settings["Database__ConnectionString"]);
        await connection.OpenAsync();
        await ExecuteAsync(connection, """
            INSERT INTO leader_epochs (name, epoch, holder) VALUES ('leader', 1, 'plan-test');
            INSERT INTO outbox (chat_id, method, payload, state, sent_at) SELECT n % 5000, 'sendMessage', '{}', 'sent', now() FROM generate_series(1, 60000) n;
            ANALYZE outbox;
            INSERT INTO outbox (chat_id, method, payload) SELECT 777, 'sendMessage', '{}' FROM generate_series(1, 10000) n;
            INSERT INTO outbox (chat_id, method, payload, paid) SELECT 100000 + n, 'sendMessage', '{}', n % 2 = 1 FROM generate_series(1, 30000) n;
            """);
        Assert.Equal(15_000L, await ScalarAsync(connection, "SELECT count(*) FROM outbox_heads WHERE paid"));

        // The hot chat's messages come first in send order; it has a call in flight, so it is left out. Half the other
        // chats' heads are paid: each kind's take reads its own heads only.
        await using var transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)", transaction);
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + Bot.Outbox.OutboxQueue.TakeSql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [HotChat] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 30 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = 1 });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 30 });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 30 });
        var plan = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement.Clone();
        await transaction.RollbackAsync();
        AssertProbesOnly(plan, 30, maxBuffers: 800, relationName: "outbox");
    }

    [Fact]
    public async Task The_broadcast_expansion_probes_after_statistics_of_no_active_users()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        await using var connection = new NpgsqlConnection(settings["Database__ConnectionString"]);
        await connection.OpenAsync();
        // Statistics taken while every known user had stopped, then 40,000 subscribe: the chunk must still be read
        // from users_active from the cursor on, never by scanning the users who are not active.
        await ExecuteAsync(connection, """
            INSERT INTO users (user_id, status) SELECT n, 'stopped' FROM generate_series(1, 60000) n;
            ANALYZE users;
            INSERT INTO users (user_id, status) SELECT 100000 + n, 'active' FROM generate_series(1, 40000) n;
            """);
        var plan = await ExplainAsync(connection, Bot.Features.Subscriptions.Subscribers.ChunkSql,
            new NpgsqlParameter<long> { TypedValue = 120_000 }, new NpgsqlParameter<int> { TypedValue = 500 });
        AssertProbesOnly(plan, 500, maxBuffers: 60, relationName: "users");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"languages":["ru"],"activeWithinDays":30}""")]
    public async Task An_aimed_broadcasts_expansion_reads_from_the_cursor_after_statistics_of_no_active_users(string audience)
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        await using var connection = new NpgsqlConnection(settings["Database__ConnectionString"]);
        await connection.OpenAsync();
        // As above, with the audience filter and the quiet hours of this release's expansion; half the new subscribers
        // match the language filter, so a chunk reads about twice its size from the cursor on.
        await ExecuteAsync(connection, """
            INSERT INTO users (user_id, status) SELECT n, 'stopped' FROM generate_series(1, 60000) n;
            ANALYZE users;
            INSERT INTO users (user_id, status, language_code, last_seen_at)
            SELECT 100000 + n, 'active', CASE WHEN n % 2 = 0 THEN 'ru' ELSE 'en' END, now() FROM generate_series(1, 40000) n;
            """);
        var plan = await ExplainAsync(connection, Bot.Features.Broadcasts.BroadcastDeliveries.NextRecipientsSql,
            new NpgsqlParameter<long> { TypedValue = 120_000 }, new NpgsqlParameter<int> { TypedValue = 500 },
            new NpgsqlParameter<string> { TypedValue = audience }, new NpgsqlParameter<string> { TypedValue = "UTC" },
            new NpgsqlParameter<TimeOnly?> { TypedValue = new TimeOnly(23, 0) }, new NpgsqlParameter<TimeOnly?> { TypedValue = new TimeOnly(8, 0) });
        AssertProbesOnly(plan, 500, maxBuffers: 120, relationName: "users");
    }

    private static void AssertProbesOnly(JsonElement plan, int limit, int maxBuffers, string relationName = "inbox")
    {
        var root = plan[0].GetProperty("Plan");
        var buffers = root.GetProperty("Shared Hit Blocks").GetInt64() + root.GetProperty("Shared Read Blocks").GetInt64();
        Assert.True(buffers <= maxBuffers, $"{buffers} buffers (at most {maxBuffers}):\n{plan}");
        foreach (var node in Nodes(root))
        {
            var relation = node.TryGetProperty("Relation Name", out var name) ? name.GetString() : null;
            var type = node.GetProperty("Node Type").GetString();
            Assert.False(type == "Seq Scan" && relation == relationName, $"a sequential scan of {relationName}:\n{plan}");
            if (relation == relationName && node.TryGetProperty("Actual Rows", out var rows))
            {
                var loops = node.GetProperty("Actual Loops").GetInt64();
                Assert.True(rows.GetDouble() * loops <= limit * 2, $"{type} read {rows.GetDouble() * loops} {relationName} rows:\n{plan}");
            }
        }
    }

    /// <summary>Every node that reads <paramref name="relation"/> does so through <paramref name="index"/>.</summary>
    private static void AssertNoIndexBut(JsonElement plan, string relation, string index)
    {
        foreach (var node in Nodes(plan[0].GetProperty("Plan")))
        {
            if (node.TryGetProperty("Relation Name", out var name) && name.GetString() == relation && node.GetProperty("Node Type").GetString() != "ModifyTable")
            {
                Assert.True(node.TryGetProperty("Index Name", out var used) && used.GetString() == index, $"{relation} read otherwise than through {index}:\n{plan}");
            }
        }
    }

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

    /// <summary>EXPLAIN (ANALYZE, BUFFERS) of a statement, run in a transaction that is rolled back.</summary>
    private static async Task<JsonElement> ExplainAsync(NpgsqlConnection connection, string sql, params NpgsqlParameter[] parameters)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        var json = (string)(await command.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 120 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
