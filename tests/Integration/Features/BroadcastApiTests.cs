using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// The broadcasts' admin API at parity with Telegram, on the bot binary with the fake Bot API: audiences and saved
/// lists, drafts, pause and resume, the delivery records, edit, withdraw, preview, schedules, paid broadcasts, and a
/// 400 that names the field for each bad input.
/// </summary>
public sealed class BroadcastApiTests(SharedPostgres postgres)
{
    private const long Admin = 9001;
    private const string AdminToken = "integration-admin-token-0123456789";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_audience_count_is_who_the_broadcast_reaches_and_a_saved_list_aims_one()
    {
        await using var group = await CreateGroupAsync(extra: new() { ["Broadcasts__AllowPaid"] = "true", ["Broadcasts__MaxPaidBudget"] = "1000" });
        var bot = await group.StartAsync();
        // 30 subscribers: odd ones speak Russian, even ones English (as Telegram's code says); every third came from "promo".
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            """
            INSERT INTO users (user_id, status, subscribed_at, language_code, source)
            SELECT 100000 + n, 'active', now(), CASE WHEN n % 2 = 1 THEN 'ru' ELSE 'en-US' END, CASE WHEN n % 3 = 0 THEN 'promo' END
            FROM generate_series(1, 30) n
            """);
        using var http = Client(bot);

        Assert.Equal(15, await CountAsync(http, """{"languages":["ru"]}"""));
        Assert.Equal(10, await CountAsync(http, """{"sources":["promo"]}"""));
        Assert.Equal(30, await CountAsync(http, "{}"));
        var aimed = """{"languages":["ru"],"sources":["promo"]}""";
        Assert.Equal(5, await CountAsync(http, aimed));

        // Language variants: the Russian one and the one for everybody else; only the audience gets it.
        var (status, body) = await PostAsync(http, "admin/broadcasts", $$"""
            {"variants":[{"language":"ru","fromChatId":{{Admin}},"messageIds":[77],"isText":true},{"language":"","fromChatId":{{Admin}},"messageIds":[78]}],
             "audience":{{aimed}}}
            """);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = body.GetProperty("id").GetInt64();
        Assert.Equal("sending", body.GetProperty("state").GetString());
        Assert.Equal(["", "ru"], body.GetProperty("languages").EnumerateArray().Select(l => l.GetString()!).ToArray());
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {id} AND state = 'done'", 1, Wait);
        long[] expected = [100003, 100009, 100015, 100021, 100027];
        Assert.Equal(expected, Copies(group, id: 77).Order().ToArray());
        Assert.Empty(Copies(group, id: 78));
        Assert.Equal(5, await group.ScalarAsync($"SELECT recipients FROM broadcasts WHERE id = {id}"));

        // A saved list: only its subscribers (an id that is no subscriber counts for nothing).
        (status, body) = await SendAsync(http, HttpMethod.Put, "admin/audience-lists/vip", """{"userIds":[100002,100004,100006,100006,999999]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(4, body.GetProperty("count").GetInt32());
        (status, body) = await SendAsync(http, HttpMethod.Get, "admin/audience-lists/vip?limit=2");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(4, body.GetProperty("count").GetInt32());
        Assert.Equal([100002L, 100004L], body.GetProperty("userIds").EnumerateArray().Select(u => u.GetInt64()).ToArray());
        (status, body) = await SendAsync(http, HttpMethod.Get, "admin/audience-lists");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(body.EnumerateArray(), l => l.GetProperty("name").GetString() == "vip" && l.GetProperty("count").GetInt32() == 4);
        Assert.Equal(3, await CountAsync(http, """{"list":"vip"}"""));

        (status, body) = await PostAsync(http, "admin/broadcasts", $$$"""{"fromChatId":{{{Admin}}},"messageId":79,"audience":{"list":"vip"}}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var listed = body.GetProperty("id").GetInt64();
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {listed} AND state = 'done'", 1, Wait);
        Assert.Equal([100002L, 100004L, 100006L], Copies(group, id: 79).Order().ToArray());

        // A paid broadcast stops at its budget; resumed with a larger one, it reaches the rest of its audience once.
        Assert.Contains("budget", (await PostAsync(http, "admin/broadcasts", $$"""{"fromChatId":{{Admin}},"messageId":80,"allowPaid":true,"budget":5000}""")).Body.ToString(), StringComparison.Ordinal);
        var album = await PostAsync(http, "admin/broadcasts", $$"""{"fromChatId":{{Admin}},"messageIds":[81,82],"allowPaid":true,"budget":5}""");
        Assert.Equal(HttpStatusCode.BadRequest, album.Status);
        Assert.Contains("album", album.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, body) = await PostAsync(http, "admin/broadcasts", $$"""{"fromChatId":{{Admin}},"messageId":80,"allowPaid":true,"budget":2,"audience":{{aimed}}}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var paid = body.GetProperty("id").GetInt64();
        Assert.True(body.GetProperty("allowPaid").GetBoolean());
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {paid} AND state = 'paused' AND paused_reason = 'budget'", 1, Wait);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{paid}/resume", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, $"admin/broadcasts/{paid}/resume", """{"budget":10}""")).Status);
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {paid} AND state = 'done'", 1, Wait);
        Assert.Equal(expected, Copies(group, id: 80).Order().ToArray());
        Assert.All(group.Telegram.Calls("copyMessage").Where(c => c.Delivered && MessageIdOf(c) == 80),
            c => Assert.True(c.Body["allow_paid_broadcast"]?.GetValue<bool>()));

        // The list cannot go while a broadcast that has not ended uses it; then it goes.
        (status, body) = await PostAsync(http, "admin/broadcasts", $$"""{"fromChatId":{{Admin}},"messageId":83,"audience":{"list":"vip"},"draft":true}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(HttpStatusCode.Conflict, (await SendAsync(http, HttpMethod.Delete, "admin/audience-lists/vip")).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, $"admin/broadcasts/{body.GetProperty("id").GetInt64()}/cancel", null)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(http, HttpMethod.Delete, "admin/audience-lists/vip")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, "admin/audience-lists/vip")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Delete, "admin/audience-lists/vip")).Status);
    }

    [Fact]
    public async Task A_draft_sent_paused_and_resumed_reaches_everyone_once_and_its_copies_can_be_listed_edited_and_withdrawn()
    {
        // Slow enough that a pause lands in the middle: 120 recipients at 20 messages a second.
        await using var group = await CreateGroupAsync(globalPerSecond: 20);
        var bot = await group.StartAsync();
        const int Recipients = 120;
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            $"INSERT INTO users (user_id, status, subscribed_at) SELECT 100000 + n, 'active', now() FROM generate_series(1, {Recipients}) n");
        using var http = Client(bot);

        var (status, body) = await PostAsync(http, "admin/broadcasts", $$"""{"fromChatId":{{Admin}},"messageId":77,"isText":true,"draft":true,"statusChatId":{{Admin}}}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = body.GetProperty("id").GetInt64();
        Assert.Equal("draft", body.GetProperty("state").GetString());

        // A draft is only previewed: the preview goes to the chat asked for, nobody else gets anything.
        (status, body) = await PostAsync(http, $"admin/broadcasts/{id}/preview", $$"""{"chatId":{{Admin}}}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(1, body.GetProperty("queued").GetInt32());
        await group.Telegram.WaitForCallsAsync(1, Wait, "copyMessage", Admin);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{id}/pause", null)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{id}/resume", null)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{id}/withdraw", null)).Status);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.All(Copies(group, id: 77), chat => Assert.Equal(Admin, chat));

        (status, body) = await PostAsync(http, $"admin/broadcasts/{id}/send", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("sending", body.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{id}/send", null)).Status);
        // Sent, the draft shows its progress in the status chat.
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {id} AND status_outbox_id IS NOT NULL", 1, Wait);

        var deadline = DateTime.UtcNow + Wait;
        while (Copies(group, id: 77).Count(chat => chat != Admin) < 20)
        {
            Assert.True(DateTime.UtcNow < deadline, "fewer than 20 copies went out");
            await Task.Delay(50);
        }

        (status, body) = await PostAsync(http, $"admin/broadcasts/{id}/pause", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("paused", body.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{id}/edit", """{"text":"too early"}""")).Status);
        // Only the calls already in flight at the pause may still land.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var atPause = Copies(group, id: 77).Count(chat => chat != Admin);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(atPause, Copies(group, id: 77).Count(chat => chat != Admin));
        Assert.InRange(atPause, 20, Recipients - 1);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, $"admin/broadcasts/{id}/resume", null)).Status);
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {id} AND state = 'done'", 1, Wait);
        var copies = Copies(group, id: 77).Where(chat => chat != Admin).ToList();
        Assert.Equal(Recipients, copies.Count);
        Assert.Equal(Recipients, copies.Distinct().Count());

        // The delivery records, page by page.
        (status, body) = await SendAsync(http, HttpMethod.Get, $"admin/broadcasts/{id}/deliveries?outcome=sent&limit=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Enumerable.Range(1, Recipients).Select(n => 100_000L + n), body.EnumerateArray().Select(d => d.GetProperty("userId").GetInt64()));
        Assert.All(body.EnumerateArray(), d => Assert.Single(d.GetProperty("messageIds").EnumerateArray()));
        (status, body) = await SendAsync(http, HttpMethod.Get, $"admin/broadcasts/{id}/deliveries?limit=50&after=100050");
        Assert.Equal(50, body.GetArrayLength());
        Assert.Equal(100_051, body[0].GetProperty("userId").GetInt64());
        (status, body) = await SendAsync(http, HttpMethod.Get, $"admin/broadcasts/{id}/deliveries?outcome=failed");
        Assert.Equal(0, body.GetArrayLength());
        foreach (var (query, field) in new[] { ("outcome=lost", "outcome"), ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=many", "limit"), ("after=x", "after") })
        {
            await AssertBadAsync(SendAsync(http, HttpMethod.Get, $"admin/broadcasts/{id}/deliveries?{query}"), field);
        }

        // Edit: one editMessageText per delivered copy. The fake Bot API may not yet edit copied messages, so what is
        // checked is what the bot queued (the outbox), not the fake's answer.
        await AssertBadAsync(PostAsync(http, $"admin/broadcasts/{id}/edit", """{"text":""}"""), "text");
        await AssertBadAsync(PostAsync(http, $"admin/broadcasts/{id}/edit", $$"""{"text":"{{new string('x', 4097)}}"}"""), "text");
        (status, body) = await PostAsync(http, $"admin/broadcasts/{id}/edit", """{"text":"Corrected: the meeting is at 18:00"}""");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("edit", body.GetProperty("job").GetString());
        await group.WaitForAsync($"SELECT count(*) FROM outbox WHERE method = 'editMessageText' AND broadcast_id = {id}", Recipients, Wait);
        Assert.Equal(Recipients, await group.ScalarAsync(
            $"SELECT count(DISTINCT chat_id) FROM outbox WHERE method = 'editMessageText' AND broadcast_id = {id} AND payload::jsonb ->> 'text' = 'Corrected: the meeting is at 18:00'"));
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {id} AND job_state = 'done'", 1, Wait);

        // Withdraw: one deleteMessage per delivered copy (again counted in the outbox, whatever the fake answers).
        (status, body) = await PostAsync(http, $"admin/broadcasts/{id}/withdraw", null);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("withdraw", body.GetProperty("job").GetString());
        await group.WaitForAsync($"SELECT count(*) FROM outbox WHERE method = 'deleteMessage' AND broadcast_id = {id}", Recipients, Wait);
        Assert.Equal(Recipients, await group.ScalarAsync($"SELECT count(DISTINCT chat_id) FROM outbox WHERE method = 'deleteMessage' AND broadcast_id = {id}"));

        // A broadcast that is not all text cannot be edited.
        (status, body) = await PostAsync(http, "admin/broadcasts", $$"""{"fromChatId":{{Admin}},"messageIds":[90,91],"draft":true}""");
        var album = body.GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{album}/edit", """{"text":"new"}""")).Status);

        // An unknown broadcast is a 404 on every route.
        foreach (var action in new[] { "send", "pause", "resume", "withdraw", "cancel" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(http, $"admin/broadcasts/999999/{action}", null)).Status);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(http, "admin/broadcasts/999999/edit", """{"text":"new"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(http, "admin/broadcasts/999999/preview", $$"""{"chatId":{{Admin}}}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(http, HttpMethod.Get, "admin/broadcasts/999999/deliveries")).Status);
        await AssertBadAsync(PostAsync(http, $"admin/broadcasts/{id}/preview", """{"chatId":0}"""), "chatId");
    }

    [Fact]
    public async Task Bad_input_is_a_400_naming_the_field_and_schedules_and_states_are_checked()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        using var http = Client(bot);
        var inTwoHours = DateTimeOffset.UtcNow.AddHours(2);
        // Whole seconds: the database keeps microseconds, and the answer is compared with what was sent.
        var future = new DateTimeOffset(inTwoHours.Ticks - (inTwoHours.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).ToString("O", CultureInfo.InvariantCulture);
        var past = DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O", CultureInfo.InvariantCulture);
        var message = $"\"fromChatId\":{Admin},\"messageId\":77";
        foreach (var (request, field) in new[]
        {
            ("{\"fromChatId\":0,\"messageId\":5}", "fromChatId"),
            ($"{{\"fromChatId\":{Admin}}}", "messageId"),
            ($"{{\"fromChatId\":{Admin},\"messageId\":5,\"messageIds\":[5]}}", "messageIds"),
            ($"{{\"fromChatId\":{Admin},\"messageIds\":[3,2]}}", "messageIds"),
            ($"{{\"fromChatId\":{Admin},\"messageIds\":[1,2,3,4,5,6,7,8,9,10,11]}}", "messageIds"),
            ($"{{\"fromChatId\":{Admin},\"messageIds\":[1,2],\"isText\":true}}", "isText"),
            ("{\"fromChatId\":\"nine\",\"messageId\":5}", "fromChatId"),
            ($"{{{message},\"scheduledAt\":\"tomorrow\"}}", "scheduledAt"),
            ($"{{{message},\"scheduledAt\":\"{past}\"}}", "scheduledAt"),
            ($"{{{message},\"scheduledAt\":\"{future}\",\"recurrence\":{{\"every\":\"daily\",\"at\":\"09:00\"}}}}", "recurrence"),
            ($"{{{message},\"scheduledAt\":\"{future}\",\"draft\":true}}", "draft"),
            ($"{{{message},\"recurrence\":{{\"every\":\"monthly\",\"at\":\"09:00\"}}}}", "recurrence.every"),
            ($"{{{message},\"recurrence\":{{\"every\":\"daily\",\"at\":\"25:00\"}}}}", "recurrence.at"),
            ($"{{{message},\"recurrence\":{{\"every\":\"weekly\",\"at\":\"09:00\"}}}}", "recurrence.weekday"),
            ($"{{{message},\"recurrence\":{{\"every\":\"weekly\",\"at\":\"09:00\",\"weekday\":7}}}}", "recurrence.weekday"),
            ($"{{{message},\"recurrence\":{{\"every\":\"daily\",\"at\":\"09:00\",\"weekday\":1}}}}", "recurrence.weekday"),
            ($"{{{message},\"timeZone\":\"Mars/Olympus_Mons\"}}", "timeZone"),
            ($"{{{message},\"scheduledAt\":\"{future}\",\"ifMissed\":\"maybe\"}}", "ifMissed"),
            ($"{{{message},\"ifMissed\":\"skip\"}}", "ifMissed"),
            ($"{{{message},\"quietHours\":{{\"start\":\"22:00\",\"end\":\"22:00\"}}}}", "quietHours"),
            ($"{{{message},\"quietHours\":{{\"start\":\"late\",\"end\":\"08:00\"}}}}", "quietHours.start"),
            ($"{{{message},\"budget\":10}}", "budget"),
            ($"{{{message},\"statusChatId\":0}}", "statusChatId"),
            ($"{{{message},\"audience\":{{\"activeWithinDays\":0}}}}", "audience.activeWithinDays"),
            ($"{{{message},\"audience\":{{\"languages\":[\"Russian\"]}}}}", "audience.languages"),
            ($"{{{message},\"audience\":{{\"list\":\"no such list\"}}}}", "audience.list"),
            ($"{{{message},\"audience\":{{\"list\":\"missing\"}}}}", "audience.list"),
            ($"{{{message},\"audience\":{{\"subscribedAfter\":\"soon\"}}}}", "audience.subscribedAfter"),
            ($"{{\"variants\":[]}}", "variants"),
            ($"{{\"variants\":[{{\"language\":\"EN\",\"fromChatId\":{Admin},\"messageIds\":[1]}}]}}", "variants[0].language"),
            ($"{{\"variants\":[{{\"language\":\"\",\"fromChatId\":{Admin},\"messageIds\":[1]}},{{\"language\":\"\",\"fromChatId\":{Admin},\"messageIds\":[2]}}]}}", "variants[1].language"),
            ($"{{\"variants\":[{{\"language\":\"ru\",\"fromChatId\":0,\"messageIds\":[1]}}]}}", "variants[0].fromChatId"),
            ($"{{\"variants\":[{{\"language\":\"ru\",\"fromChatId\":{Admin}}}]}}", "variants[0].messageIds"),
            ($"{{{message},\"variants\":[{{\"language\":\"ru\",\"fromChatId\":{Admin},\"messageIds\":[1]}}]}}", "variants"),
            ("null", "body"),
            ("[1,2]", "body"),
        })
        {
            await AssertBadAsync(PostAsync(http, "admin/broadcasts", request), field);
        }

        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM broadcasts"));

        // Paid broadcasts are off unless Broadcasts:AllowPaid says otherwise.
        var (status, body) = await PostAsync(http, "admin/broadcasts", $"{{{message},\"allowPaid\":true,\"budget\":10}}");
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("AllowPaid", body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Once, at an instant; weekly at a local time in a zone; the time zone holds for the quiet hours.
        (status, body) = await PostAsync(http, "admin/broadcasts", $"{{{message},\"scheduledAt\":\"{future}\",\"ifMissed\":\"skip\",\"quietHours\":{{\"start\":\"23:00\",\"end\":\"08:00\"}},\"timeZone\":\"Europe/Berlin\"}}");
        Assert.True(status == HttpStatusCode.Accepted, $"{(int)status} {body}");
        Assert.Equal("scheduled", body.GetProperty("state").GetString());
        Assert.Equal(DateTimeOffset.Parse(future, CultureInfo.InvariantCulture), body.GetProperty("scheduledAt").GetDateTimeOffset());
        Assert.Equal("skip", body.GetProperty("ifMissed").GetString());
        Assert.Equal("23:00", body.GetProperty("quietStart").GetString());
        Assert.Equal("Europe/Berlin", body.GetProperty("timeZone").GetString());
        var once = body.GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(http, $"admin/broadcasts/{once}/send", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, $"admin/broadcasts/{once}/cancel", null)).Status);

        (status, body) = await PostAsync(http, "admin/broadcasts", $"{{{message},\"recurrence\":{{\"every\":\"weekly\",\"at\":\"09:30\",\"weekday\":1,\"timeZone\":\"America/New_York\"}}}}");
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("scheduled", body.GetProperty("state").GetString());
        Assert.Equal("weekly", body.GetProperty("recurrence").GetString());
        Assert.Equal("09:30", body.GetProperty("recurAt").GetString());
        Assert.Equal(1, body.GetProperty("recurWeekday").GetInt32());
        Assert.Equal("America/New_York", body.GetProperty("timeZone").GetString());
        Assert.True(body.GetProperty("scheduledAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);

        // The same Idempotency-Key with another audience is another request.
        using (var first = new HttpRequestMessage(HttpMethod.Post, "admin/broadcasts") { Content = Json($"{{{message},\"draft\":true}}") })
        {
            first.Headers.Add("Idempotency-Key", "api-test-key-1");
            Assert.Equal(HttpStatusCode.Accepted, (await http.SendAsync(first)).StatusCode);
        }

        using (var other = new HttpRequestMessage(HttpMethod.Post, "admin/broadcasts") { Content = Json($"{{{message},\"draft\":true,\"audience\":{{\"activeWithinDays\":7}}}}") })
        {
            other.Headers.Add("Idempotency-Key", "api-test-key-1");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, (await http.SendAsync(other)).StatusCode);
        }

        // The other routes' bodies.
        await AssertBadAsync(PostAsync(http, "admin/broadcasts/audience-count", "{}"), "audience");
        await AssertBadAsync(PostAsync(http, "admin/broadcasts/audience-count", """{"audience":{"sources":[]}}"""), "audience.sources");
        await AssertBadAsync(PostAsync(http, "admin/broadcasts/audience-count", """{"audience":{"activeWithinDays":"week"}}"""), "audience.activeWithinDays");
        await AssertBadAsync(PostAsync(http, $"admin/broadcasts/{once}/resume", """{"budget":0}"""), "budget");
        await AssertBadAsync(SendAsync(http, HttpMethod.Put, "admin/audience-lists/bad%20name", """{"userIds":[1]}"""), "name");
        await AssertBadAsync(SendAsync(http, HttpMethod.Put, "admin/audience-lists/vip", """{"userIds":[]}"""), "userIds");
        await AssertBadAsync(SendAsync(http, HttpMethod.Put, "admin/audience-lists/vip", """{"userIds":[5,-1]}"""), "userIds[1]");
        await AssertBadAsync(SendAsync(http, HttpMethod.Put, "admin/audience-lists/vip", """{"userIds":["x"]}"""), "userIds");
        await AssertBadAsync(SendAsync(http, HttpMethod.Put, "admin/audience-lists/vip", null), "body");
        await AssertBadAsync(SendAsync(http, HttpMethod.Get, "admin/audience-lists/vip?limit=0"), "limit");
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM audience_lists"));

        // A list of 100,000 ids fits its larger body limit.
        var ids = string.Join(',', Enumerable.Range(1, 100_000).Select(n => (9_000_000_000L + n).ToString(CultureInfo.InvariantCulture)));
        (status, body) = await SendAsync(http, HttpMethod.Put, "admin/audience-lists/everyone-big", $"{{\"userIds\":[{ids}]}}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(100_000, body.GetProperty("count").GetInt32());
        await AssertBadAsync(SendAsync(http, HttpMethod.Put, "admin/audience-lists/too-big", $"{{\"userIds\":[{ids},9000200000]}}"), "userIds");
    }

    private static async Task AssertBadAsync(Task<(HttpStatusCode Status, JsonElement Body)> call, string field)
    {
        var (status, body) = await call;
        Assert.True(status == HttpStatusCode.BadRequest, $"{field}: {(int)status} {body}");
        var detail = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        Assert.True(detail.Contains(field, StringComparison.Ordinal), $"the problem does not name {field}: {body}");
    }

    private static async Task<int> CountAsync(HttpClient http, string audience)
    {
        var (status, body) = await PostAsync(http, "admin/broadcasts/audience-count", $"{{\"audience\":{audience}}}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("count").GetInt32();
    }

    /// <summary>The chats that got a delivered copy of message <paramref name="id"/>.</summary>
    private static List<long> Copies(BotGroup group, int id) =>
        [.. group.Telegram.Calls("copyMessage").Where(c => c.Delivered && c.ChatId is not null && MessageIdOf(c) == id).Select(c => c.ChatId!.Value)];

    private static int? MessageIdOf(CallRecord call) => call.Body["message_id"]?.GetValue<int>();

    private static Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, string? body) =>
        SendAsync(http, HttpMethod.Post, path, body);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static HttpClient Client(BotProcess bot)
    {
        var http = new HttpClient { BaseAddress = bot.InternalUri, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<BotGroup> CreateGroupAsync(int globalPerSecond = 300, Dictionary<string, string?>? extra = null)
    {
        var limits = RateLimits.Telegram with { Global = new WindowLimit(globalPerSecond, TimeSpan.FromSeconds(1)) };
        var settings = new Dictionary<string, string?>
        {
            ["Admin__UserIds"] = Admin.ToString(CultureInfo.InvariantCulture),
            ["Admin__Token"] = AdminToken,
            ["Sender__GlobalPerSecond"] = globalPerSecond.ToString(CultureInfo.InvariantCulture),
            ["Broadcasts__StatusIntervalSeconds"] = "1",
            // Hundreds of admin calls from one address in a test.
            ["Admin__RequestsPerMinute"] = "100000",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return await BotGroup.CreateAsync(postgres.Cluster, settings, new FakeTelegramOptions { RateLimits = limits });
    }
}
