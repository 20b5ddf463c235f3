using System.Globalization;
using System.Text.Json.Nodes;
using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// Announcements as admins prepare them in Telegram: an audience and its count, a preview, language variants, a
/// schedule across a leader's death and a daylight-saving change, pause and resume, edit and withdraw, albums.
/// </summary>
public sealed class AnnouncementTests(SharedPostgres postgres)
{
    private const long Admin = 9001;

    [Fact]
    public async Task An_audience_of_ru_and_promo_reaches_exactly_its_users_among_5000_and_the_menu_showed_their_number()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        // 5,000 users: Telegram's language ru, ru-RU, en or de, a /lang choice for some, sources promo, ads, promo2 or
        // none, and some who stopped.
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            """
            INSERT INTO users (user_id, language_code, language, status, source, subscribed_at)
            SELECT 100000 + n,
                   (ARRAY['ru', 'ru-RU', 'en', 'de'])[1 + n % 4],
                   CASE WHEN n % 10 = 3 THEN 'ru' WHEN n % 10 = 7 THEN 'en' END,
                   CASE WHEN n % 17 = 0 THEN 'stopped' ELSE 'active' END,
                   (ARRAY['promo', 'ads', 'promo2', NULL])[1 + n % 5 % 4],
                   now()
            FROM generate_series(1, 5000) n
            """);
        var expected = Enumerable.Range(1, 5000).Where(n =>
        {
            var code = new[] { "ru", "ru-RU", "en", "de" }[n % 4];
            var chosen = n % 10 == 3 ? "ru" : n % 10 == 7 ? "en" : null;
            var language = chosen ?? code[..2];
            var source = new[] { "promo", "ads", "promo2", null }[n % 5 % 4];
            return n % 17 != 0 && language == "ru" && source == "promo";
        }).Select(n => 100_000L + n).ToHashSet();
        Assert.InRange(expected.Count, 300, 1000);

        await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast", 77, 1);
        var menu = await MenuAfterAsync(group, bot, 2, "/audience 1 lang=ru source=promo");
        Assert.Contains(BotTexts.Get("en", "Broadcasts.menu_count").Replace("{count}", expected.Count.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal),
            menu.Text, StringComparison.Ordinal);
        await BotGroup.PostAsync(bot, Updates.Callback(3, Admin, "bc:1:go", menu.MessageId));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'done'", 1, TimeSpan.FromSeconds(120));

        var copies = Copies(group);
        Assert.Equal(expected.Order(), copies.Keys.Order());
        Assert.All(copies.Values, n => Assert.Equal(1, n));
        Assert.Equal(expected.Count, await group.ScalarAsync("SELECT recipients FROM broadcasts WHERE id = 1"));
        Assert.Equal(expected.Count, await group.ScalarAsync("SELECT sent FROM broadcasts WHERE id = 1"));
        Assert.Equal(expected.Count, await group.ScalarAsync("SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = 1 AND outcome = 'sent'"));
    }

    [Fact]
    public async Task A_preview_goes_to_the_admin_only_and_each_user_gets_the_variant_of_their_language()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            """
            INSERT INTO users (user_id, language_code, status, subscribed_at)
            SELECT 100000 + n, (ARRAY['ru', 'en', 'de'])[1 + n % 3], 'active', now() FROM generate_series(1, 300) n
            """);

        await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast en", 77, 1);
        var menu = await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast ru", 78, 2);
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM broadcasts"));
        Assert.Equal(2, await group.ScalarAsync("SELECT count(*) FROM broadcast_variants WHERE broadcast_id = 1"));

        await BotGroup.PostAsync(bot, Updates.Callback(3, Admin, "bc:1:pre", menu));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (group.Telegram.Calls("copyMessage").Count(c => c.Delivered) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "no preview within 30 s");
            await Task.Delay(50);
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var preview = group.Telegram.Calls("copyMessage").Where(c => c.Delivered).ToList();
        Assert.All(preview, c => Assert.Equal(Admin, c.ChatId));
        Assert.Equal([77, 78], preview.Select(MessageIdOf).Order());
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM broadcast_deliveries"));

        await BotGroup.PostAsync(bot, Updates.Callback(4, Admin, "bc:1:go", menu));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'done'", 1, TimeSpan.FromSeconds(90));
        var byUser = group.Telegram.Calls("copyMessage").Where(c => c.Delivered && c.ChatId != Admin).ToList();
        Assert.Equal(300, byUser.Count);
        foreach (var call in byUser)
        {
            // ru users get the ru variant (78); en users theirs, and de users (no variant) the default language's: 77.
            var n = call.ChatId!.Value - 100_000;
            Assert.Equal(n % 3 == 0 ? 78 : 77, MessageIdOf(call));
        }
    }

    [Fact]
    public async Task A_broadcast_scheduled_5_s_ahead_fires_once_though_its_leader_is_killed_in_between()
    {
        await using var group = await CreateGroupAsync();
        var first = await group.StartAsync();
        var second = await group.StartAsync();
        await SeedAsync(group, 200);

        await BroadcastTests.DraftFromTelegramAsync(group, first, "/broadcast", 77, 1);
        await MenuAfterAsync(group, first, 2, "/schedule 1 in 5s");
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE state = 'scheduled' AND scheduled_at > now()"));

        var leader = await LeaderAsync(first, second);
        leader.Kill();
        await leader.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'done'", 1, TimeSpan.FromSeconds(90));

        // Fired once: one broadcast row, started once after its time, every recipient one copy.
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM broadcasts"));
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE started_at >= scheduled_at"));
        var copies = Copies(group);
        Assert.Equal(200, copies.Count);
        Assert.All(copies.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_weekly_broadcast_keeps_its_local_time_across_a_daylight_saving_change_and_starts_one_run_per_time()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedAsync(group, 20);

        // Sunday 09:00 in Berlin: 08:00 UTC in winter (CET), 07:00 UTC once summer time began on 29 March 2026.
        Assert.Equal("2026-03-29 07:00:00+00", await TextAsync(group,
            "SELECT broadcast_next_run('2026-03-22 08:00:00+00', '09:00', 0::smallint, 'Europe/Berlin')"));
        Assert.Equal("2026-03-22 08:00:00+00", await TextAsync(group,
            "SELECT broadcast_next_run('2026-03-21 12:00:00+00', '09:00', 0::smallint, 'Europe/Berlin')"));
        Assert.Equal("2026-10-25 08:00:00+00", await TextAsync(group,
            "SELECT broadcast_next_run('2026-10-18 07:00:00+00', '09:00', 0::smallint, 'Europe/Berlin')"));
        // Quiet hours 23:00–08:00 in Berlin: a delivery at 23:30 waits until 08:00 the next morning.
        Assert.Equal("2026-12-04 07:00:00+00", await TextAsync(group,
            "SELECT broadcast_quiet_until('2026-12-03 22:30:00+00', 'Europe/Berlin', '23:00', '08:00')"));

        await BotGroup.PostAsync(bot, Updates.UserMessage(1, Admin, "/timezone Europe/Berlin"));
        await BotGroup.PostAsync(bot, Updates.UserMessage(2, Admin, "/timezone Mars/Olympus"));
        await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast", 77, 3);
        await MenuAfterAsync(group, bot, 4, "/schedule 1 weekly sun 09:00");
        Assert.Contains(group.Telegram.Deliveries(Admin), d => d.Text == BotTexts.Get("en", "Broadcasts.timezone_unknown").Replace("{zone}", "Mars/Olympus", StringComparison.Ordinal));
        Assert.Equal(1, await group.ScalarAsync(
            """
            SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'scheduled' AND recurrence = 'weekly' AND time_zone = 'Europe/Berlin'
              AND extract(dow FROM scheduled_at AT TIME ZONE 'Europe/Berlin') = 0 AND (scheduled_at AT TIME ZONE 'Europe/Berlin')::time = '09:00'
              AND scheduled_at > now() AND scheduled_at <= now() + interval '7 days'
            """));

        // Its time comes (moved to now here): one run starts, and the template moves to the same local time a week on.
        var next = await TextAsync(group, "SELECT scheduled_at FROM broadcasts WHERE id = 1");
        await PostgresCluster.ExecuteAsync(group.ConnectionString, "UPDATE broadcasts SET scheduled_at = now() WHERE id = 1");
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE parent_id = 1 AND state = 'done'", 1, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE parent_id = 1"));
        Assert.Equal(next, await TextAsync(group, "SELECT scheduled_at FROM broadcasts WHERE id = 1"));
        Assert.Equal(20, Copies(group).Count);
    }

    [Fact]
    public async Task Paused_at_30_percent_and_resumed_it_reaches_everyone_once_then_edit_and_withdraw_change_every_copy_within_the_limits()
    {
        await using var group = await CreateGroupAsync(globalPerSecond: 60);
        var bot = await group.StartAsync();
        await SeedAsync(group, 600);

        var menu = await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast", 77, 1);
        await BotGroup.PostAsync(bot, Updates.Callback(2, Admin, "bc:1:go", menu));
        await WaitForCopiesAsync(group, 180);
        await BotGroup.PostAsync(bot, Updates.Callback(3, Admin, "bc:1:pause", menu));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'paused'", 1, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var atPause = Copies(group).Count;
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(atPause, Copies(group).Count);
        Assert.InRange(atPause, 180, 599);
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM outbox WHERE broadcast_id = 1 AND state IN ('pending', 'sending')"));

        await BotGroup.PostAsync(bot, Updates.Callback(4, Admin, "bc:1:resume", menu));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'done'", 1, TimeSpan.FromSeconds(90));
        var copies = Copies(group);
        Assert.Equal(600, copies.Count);
        Assert.All(copies.Values, n => Assert.Equal(1, n));

        await BotGroup.PostAsync(bot, Updates.UserMessage(5, Admin, "/edit 1 Updated announcement"));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND job = 'edit' AND job_state = 'done'", 1, TimeSpan.FromSeconds(90));
        var copied = group.Telegram.Calls("copyMessage").Where(c => c.Delivered && c.ChatId != Admin).ToDictionary(c => c.ChatId!.Value, c => c.MessageId);
        var edits = group.Telegram.Calls("editMessageText").Where(c => c.ChatId != Admin && c.Status == 200).ToList();
        Assert.Equal(600, edits.Count);
        Assert.All(edits, e => Assert.Equal(copied[e.ChatId!.Value], e.Body["message_id"]!.GetValue<int>()));
        Assert.All(edits, e => Assert.Equal("Updated announcement", e.Body["text"]!.GetValue<string>()));
        Assert.Equal(600, await group.ScalarAsync("SELECT job_done FROM broadcasts WHERE id = 1"));

        await BotGroup.PostAsync(bot, Updates.UserMessage(6, Admin, "/withdraw 1"));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND job = 'withdraw' AND job_state = 'done'", 1, TimeSpan.FromSeconds(90));
        var deletes = group.Telegram.Calls("deleteMessage").Where(c => c.ChatId != Admin && c.Status == 200).ToList();
        Assert.Equal(600, deletes.Count);
        Assert.All(deletes, d => Assert.Equal(copied[d.ChatId!.Value], d.Body["message_id"]!.GetValue<int>()));
        Assert.Equal(600, await group.ScalarAsync("SELECT job_done FROM broadcasts WHERE id = 1"));

        var stats = group.Telegram.Stats();
        Assert.Equal(0, stats.RateLimitViolations);
        Assert.InRange(stats.MaxGlobalRatePerSecond, 1, 60);
    }

    [Fact]
    public async Task An_album_of_three_photos_arrives_as_one_album_per_recipient()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedAsync(group, 50);

        foreach (var (update, message) in new[] { (1L, 501), (2L, 502), (3L, 503) })
        {
            await BotGroup.PostAsync(bot, Updates.AlbumPhoto(update, Admin, message, "album-1"));
        }

        await BotGroup.PostAsync(bot, Updates.ReplyToAlbum(4, Admin, "/broadcast", 502, "album-1"));
        var title = BotTexts.Prefix("en", "Broadcasts.menu_title");
        var menu = (await WaitForAsync(() => group.Telegram.Deliveries(Admin).FirstOrDefault(d => d.Text?.StartsWith(title, StringComparison.Ordinal) == true)))!;
        await BotGroup.PostAsync(bot, Updates.Callback(5, Admin, "bc:1:go", menu.MessageId));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'done'", 1, TimeSpan.FromSeconds(60));

        var albums = group.Telegram.Calls("copyMessages").Where(c => c.Status == 200).ToList();
        Assert.Equal(50, albums.Count);
        Assert.Equal(50, albums.Select(a => a.ChatId).Distinct().Count());
        Assert.All(albums, a => Assert.Equal([501, 502, 503], a.Body["message_ids"]!.AsArray().Select(id => id!.GetValue<int>())));
        Assert.DoesNotContain(group.Telegram.Calls("copyMessage"), c => c.ChatId != Admin);
        Assert.Equal(50, await group.ScalarAsync("SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = 1 AND cardinality(message_ids) = 3"));
    }

    [Fact]
    public async Task A_paid_broadcast_goes_past_30_a_second_only_with_allow_paid_broadcast_on_every_call_and_stops_at_its_budget()
    {
        // Telegram's limits as they are (30/s overall unpaid, 1000/s paid, 1/s per chat), in the fake and the bot.
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Admin__UserIds"] = Admin.ToString(CultureInfo.InvariantCulture),
            ["Broadcasts__AllowPaid"] = "true",
            ["Broadcasts__StatusIntervalSeconds"] = "1",
            ["Sender__MaxInFlight"] = "200",
        }, new FakeTelegramOptions { RateLimits = RateLimits.Telegram });
        var bot = await group.StartAsync();
        await SeedAsync(group, 1500);

        await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast", 77, 1);
        var menu = await MenuAfterAsync(group, bot, 2, "/paid 1 1000");
        Assert.Contains(BotTexts.Get("en", "Broadcasts.menu_paid").Replace("{budget}", "1000", StringComparison.Ordinal), menu.Text, StringComparison.Ordinal);
        await BotGroup.PostAsync(bot, Updates.Callback(3, Admin, "bc:1:go", menu.MessageId));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'paused' AND paused_reason = 'budget'", 1, TimeSpan.FromSeconds(90));
        await group.WaitForAsync("SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = 1 AND outcome = 'queued'", 0, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2));

        var copies = group.Telegram.Calls("copyMessage").Where(c => c.ChatId != Admin).ToList();
        Assert.Equal(1000, copies.Count(c => c.Delivered));
        Assert.Equal(1000, Copies(group).Count);
        Assert.All(copies, c => Assert.True(c.Paid && c.Body["allow_paid_broadcast"]?.GetValue<bool>() == true, $"a copy to {c.ChatId} was not paid"));
        Assert.Equal(1000, await group.ScalarAsync("SELECT recipients FROM broadcasts WHERE id = 1"));
        var stats = group.Telegram.Stats();
        Assert.Equal(0, stats.RateLimitViolations);
        Assert.True(stats.MaxGlobalRatePerSecond > 30, $"the paid broadcast went at most {stats.MaxGlobalRatePerSecond}/s");
        Assert.InRange(stats.MaxUnpaidRatePerSecond, 0, 30);
        Assert.Equal(1000, stats.PaidCalls);
    }

    [Fact]
    public async Task Paid_mode_is_refused_unless_the_deployment_allows_it_bad_arguments_are_explained_and_others_presses_change_nothing()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedAsync(group, 5);
        await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast", 77, 1);

        foreach (var (update, command, key) in new[]
        {
            (2L, "/paid 1 100", "Broadcasts.paid_disabled"),
            (3L, "/audience 1 lang=", "Broadcasts.audience_bad"),
            (4L, "/schedule 1 tomorrow", "Broadcasts.usage_schedule_id"),
            (5L, "/quiet 1 25:00-08:00", "Broadcasts.usage_quiet"),
            (6L, "/edit 1", "Broadcasts.usage_edit"),
            (7L, "/audience 99 all", "Broadcasts.not_found"),
            (8L, "/schedule", "Broadcasts.usage_schedule"),
            (9L, "/withdraw 1", "Broadcasts.job_refused"),
        })
        {
            var before = group.Telegram.Deliveries(Admin).Count;
            await BotGroup.PostAsync(bot, Updates.UserMessage(update, Admin, command));
            var answer = await WaitForAsync(() => group.Telegram.Deliveries(Admin).Skip(before).FirstOrDefault());
            Assert.StartsWith(BotTexts.Prefix("en", key), answer.Text, StringComparison.Ordinal);
        }

        // Someone who is not an admin presses the draft's buttons (a forwarded menu, forged data): refused, nothing changes.
        foreach (var (update, data) in new[] { (20L, "bc:1:go"), (21L, "bc:1:all"), (22L, "bc:1:x"), (23L, "bc:1:pre") })
        {
            await BotGroup.PostAsync(bot, Updates.Callback(update, 42, data, 1));
        }

        foreach (var (update, data) in new[] { (24L, "bc:x:go"), (25L, "bc:999:go"), (26L, "bc:1"), (27L, "bc:1:unknown") })
        {
            await BotGroup.PostAsync(bot, Updates.Callback(update, Admin, data, 1));
        }

        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE update_id BETWEEN 20 AND 27 AND state = 'done'", 8, TimeSpan.FromSeconds(30));
        var answers = await WaitForAsync(() => group.Telegram.Calls("answerCallbackQuery").Count(c => ((string?)c.Body["callback_query_id"])?.StartsWith("cb-2", StringComparison.Ordinal) == true) >= 8
            ? group.Telegram.Calls("answerCallbackQuery").Where(c => ((string?)c.Body["callback_query_id"])?.StartsWith("cb-2", StringComparison.Ordinal) == true).ToList() : null);
        Assert.Equal(4, answers.Count(a => (string?)a.Body["text"] == BotTexts.Get("en", "Broadcasts.admins_only")));
        Assert.Equal(3, answers.Count(a => (string?)a.Body["text"] == BotTexts.Get("en", "Broadcasts.press_unknown")));
        Assert.Equal(1, answers.Count(a => (string?)a.Body["text"] == BotTexts.Get("en", "Broadcasts.press_too_late")));
        Assert.DoesNotContain(group.Telegram.Calls("copyMessage"), c => c.ChatId == 42);

        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE allow_paid"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE audience <> '{}'::jsonb"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE state <> 'draft'"));
    }

    [Fact]
    public async Task Quiet_hours_hold_the_copies_of_users_inside_them_and_let_the_others_go()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedAsync(group, 40);
        // Quiet hours around the present hour in UTC; the first 20 users live in UTC (inside them), the others in a zone
        // 12 hours away (outside them).
        var now = DateTime.UtcNow;
        var from = new TimeOnly(now.Hour, 0).AddHours(-1);
        var to = new TimeOnly(now.Hour, 0).AddHours(2);
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            """
            UPDATE users SET time_zone = CASE WHEN user_id <= 100020 THEN 'UTC' ELSE 'Etc/GMT+12' END
            """);
        await BroadcastTests.DraftFromTelegramAsync(group, bot, "/broadcast", 77, 1);
        var menu = await MenuAfterAsync(group, bot, 2, $"/quiet 1 {from:HH:mm}-{to:HH:mm}");
        await BotGroup.PostAsync(bot, Updates.Callback(3, Admin, "bc:1:go", menu.MessageId));

        await WaitForCopiesAsync(group, 20);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var copies = Copies(group);
        Assert.Equal(Enumerable.Range(21, 20).Select(n => 100_000L + n), copies.Keys.Order());
        // The others wait in the outbox until the quiet hours end (in UTC, their zone), and the broadcast is still going out.
        Assert.Equal(20, await group.ScalarAsync(
            $"""
            SELECT count(*) FROM outbox WHERE broadcast_id = 1 AND state = 'pending' AND chat_id <= 100020
              AND not_before = (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '{(to.Hour + 24 - now.Hour) % 24 + now.Hour} hours') AT TIME ZONE 'UTC'
            """));
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM broadcasts WHERE id = 1 AND state = 'sending'"));
    }

    private static int MessageIdOf(CallRecord call) => call.Body["message_id"]!.GetValue<int>();

    private static Dictionary<long, int> Copies(BotGroup group) =>
        group.Telegram.Calls("copyMessage").Concat(group.Telegram.Calls("copyMessages"))
            .Where(c => c.Delivered && c.ChatId is { } chat && chat != Admin)
            .GroupBy(c => c.ChatId!.Value).ToDictionary(g => g.Key, g => g.Count());

    private static async Task WaitForCopiesAsync(BotGroup group, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (Copies(group).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} copies within 90 s");
            await Task.Delay(50);
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, "not within 30 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Posts an admin's command and returns the menu message the bot answers it with.</summary>
    private static async Task<DeliveredMessage> MenuAfterAsync(BotGroup group, BotProcess bot, long updateId, string command)
    {
        var before = group.Telegram.Deliveries(Admin).Count;
        await BotGroup.PostAsync(bot, Updates.UserMessage(updateId, Admin, command));
        var title = BotTexts.Prefix("en", "Broadcasts.menu_title");
        return await WaitForAsync(() => group.Telegram.Deliveries(Admin).Skip(before).FirstOrDefault(d => d.Text?.StartsWith(title, StringComparison.Ordinal) == true)
            ?? (group.Telegram.Deliveries(Admin).Skip(before).FirstOrDefault() is { } other ? throw new Xunit.Sdk.XunitException($"{command} answered: {other.Text}") : null));
    }

    private static async Task<BotProcess> LeaderAsync(params BotProcess[] replicas)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (replicas.FirstOrDefault(r => r.Output.Contains("This replica leads", StringComparison.Ordinal)) is { } leader)
            {
                return leader;
            }

            Assert.True(DateTime.UtcNow < deadline, "no replica leads within 30 s");
            await Task.Delay(100);
        }
    }

    private static async Task<string> TextAsync(BotGroup group, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(group.ConnectionString);
        await connection.OpenAsync();
        await using (var zone = new Npgsql.NpgsqlCommand("SET TIME ZONE 'UTC'", connection))
        {
            await zone.ExecuteNonQueryAsync();
        }

        await using var command = new Npgsql.NpgsqlCommand($"SELECT ({sql})::text", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task SeedAsync(BotGroup group, int count) =>
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            $"INSERT INTO users (user_id, status, subscribed_at) SELECT 100000 + n, 'active', now() FROM generate_series(1, {count}) n");

    private async Task<BotGroup> CreateGroupAsync(int globalPerSecond = 300)
    {
        var limits = RateLimits.Telegram with { Global = new WindowLimit(globalPerSecond, TimeSpan.FromSeconds(1)) };
        return await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Admin__UserIds"] = Admin.ToString(CultureInfo.InvariantCulture),
            ["Sender__GlobalPerSecond"] = globalPerSecond.ToString(CultureInfo.InvariantCulture),
            ["Broadcasts__StatusIntervalSeconds"] = "1",
        }, new FakeTelegramOptions { RateLimits = limits });
    }
}
