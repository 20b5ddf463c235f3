using System.Net;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Admin;

/// <summary>
/// The admin API as an attacker meets it, on the published binary: every route in every spelling routing might
/// accept, every kind of token, both ports, a guessing burst from one address, a rotation, a repeated request.
/// </summary>
public sealed class AdminApiTests(SharedPostgres postgres)
{
    private const string WriteToken = "admin-write-token-0123456789abcdef";
    private const string ReadToken = "admin-read-token-0123456789abcdef";
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");

    private static readonly (string Method, string Path)[] Routes =
    [
        ("GET", "/admin/stats"), ("GET", "/admin/join-requests"), ("GET", "/admin/broadcasts"), ("GET", "/admin/broadcasts/1"),
        ("POST", "/admin/broadcasts"), ("POST", "/admin/broadcasts/1/cancel"),
        ("GET", "/admin/gate-settings/-1001000000002"), ("GET", "/admin/gate-settings-audit"),
        ("POST", "/admin/broadcasts/audience-count"), ("POST", "/admin/broadcasts/1/send"), ("POST", "/admin/broadcasts/1/pause"),
        ("POST", "/admin/broadcasts/1/resume"), ("POST", "/admin/broadcasts/1/edit"), ("POST", "/admin/broadcasts/1/withdraw"),
        ("POST", "/admin/broadcasts/1/preview"), ("GET", "/admin/broadcasts/1/deliveries"),
        ("PUT", "/admin/audience-lists/vip"), ("GET", "/admin/audience-lists"), ("GET", "/admin/audience-lists/vip"),
        ("DELETE", "/admin/audience-lists/vip"),
    ];

    /// <summary>Routes that change something: the write token only. Counting an audience is a POST that changes nothing.</summary>
    private static bool Writes(string method, string path) => method != "GET" && path != "/admin/broadcasts/audience-count";

    /// <summary>The path as given and the spellings a client may try: case, percent-encoding, slashes, dot segments, a query.</summary>
    public static IEnumerable<string> Spellings(string path)
    {
        var rest = path["/admin".Length..];
        yield return path;
        yield return path.ToUpperInvariant();
        yield return "/Admin" + rest;
        yield return "/aDmIn" + rest.ToUpperInvariant();
        yield return path + "/";
        yield return "/" + path;
        yield return "/admin/" + rest;
        yield return "/%61dmin" + rest;
        yield return "/%41%44MIN" + rest;
        yield return "/admin%2F" + rest[1..];
        yield return "/admin%2f" + rest[1..];
        yield return path + "?token=" + WriteToken;
        yield return "/admin/." + rest;
        yield return "/admin/x/.." + rest;
        yield return "/admin/%2e" + rest;
        yield return path + ";x=1";
        yield return path + "%00";
        yield return "http://127.0.0.1" + path;
    }

    [Fact]
    public async Task Every_admin_route_refuses_every_spelling_without_the_right_token_and_nothing_is_read_or_created()
    {
        await using var bot = await StartAsync();
        var port = bot.Process.InternalPort;
        var refusedWith401 = new HashSet<string>();
        foreach (var (method, path) in Routes)
        {
            foreach (var target in Spellings(path))
            {
                foreach (var token in new[] { null, "", "wrong-token-wrong-token", WriteToken + "x", WriteToken[..^1], "Basic " + WriteToken })
                {
                    var answer = await RawHttp.SendAsync(port, method, target, token, method is "POST" or "PUT" ? """{"fromChatId":1,"messageId":2}""" : null);
                    // A spelling that routing reads as another route's path shape (POST /admin/broadcasts/audience-count;x=1 is
                    // GET /admin/broadcasts/{id}'s) is a 405 of the internal port's routing, before authorization, as for
                    // DELETE /admin/stats: nothing is read. The route's own path is always refused by authorization.
                    Assert.True(answer.Status is 400 or 401 or 404 || (answer.Status == 405 && target != path),
                        $"{method} {target} with {token ?? "no token"}: {answer.Status}\n{answer.Body}");
                    Assert.DoesNotContain("\"active\"", answer.Body, StringComparison.Ordinal);
                    Assert.DoesNotContain("\"state\"", answer.Body, StringComparison.Ordinal);
                    if (answer.Status == 401)
                    {
                        refusedWith401.Add($"{method} {path}");
                        Assert.Equal("Bearer", answer.Header("WWW-Authenticate"));
                    }
                }

                // The read token may not write, in any spelling either.
                if (Writes(method, path))
                {
                    var answer = await RawHttp.SendAsync(port, method, target, ReadToken, method is "POST" or "PUT" ? """{"fromChatId":1,"messageId":2}""" : null);
                    Assert.True(answer.Status is 400 or 403 or 404, $"{method} {target} with the read token: {answer.Status}");
                }
            }
        }

        // Each route was reached (and refused by authorization, not by luck of routing) in several spellings.
        Assert.Equal(Routes.Length, refusedWith401.Count);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM broadcasts"));
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM audience_lists"));

        // The same spellings with the right token do reach the routes: what refused them above was the token.
        foreach (var target in new[] { "/ADMIN/STATS", "/Admin/Stats", "/admin/stats/", "/%61dmin/stats", "/admin/./stats", "/admin/stats?x=1" })
        {
            Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", target, ReadToken)).Status);
        }

        Assert.Equal(202, (await RawHttp.SendAsync(port, "POST", "/ADMIN/Broadcasts", WriteToken, """{"fromChatId":1,"messageId":2}""")).Status);
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM broadcasts WHERE requested_via = 'api:write'"));
        await bot.Process.WaitForOutputAsync("Admin API POST /admin/broadcasts: 202, scope write, token write, client 127.0.0.1");
        await bot.Process.WaitForOutputAsync("Admin API GET /admin/stats: 401, scope none, token none, client 127.0.0.1");
    }

    [Fact]
    public async Task The_webhook_is_not_served_on_the_internal_port_nor_the_admin_api_on_the_public_port_in_any_spelling()
    {
        await using var bot = await StartAsync();
        var update = """{"update_id":5001,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"text":"hi"}}""";
        foreach (var target in new[]
        {
            "/telegram/webhook", "/TELEGRAM/WEBHOOK", "/Telegram/Webhook", "/telegram/webhook/", "//telegram/webhook", "/telegram//webhook",
            "/%74elegram/webhook", "/telegram%2Fwebhook", "/telegram/./webhook", "/x/../telegram/webhook", "/telegram/webhook?x=1",
        })
        {
            var answer = await RawHttp.SendAsync(bot.Process.InternalPort, "POST", target, body: update,
                headers: $"X-Telegram-Bot-Api-Secret-Token: {BotProcess.WebhookSecret}");
            Assert.True(answer.Status is 400 or 404, $"internal port, POST {target}: {answer.Status}");
        }

        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));

        foreach (var (method, path) in Routes)
        {
            foreach (var target in Spellings(path).Append("/openapi/v1.json").Append("/healthz").Append("/readyz").Append("/HEALTHZ"))
            {
                var answer = await RawHttp.SendAsync(bot.Process.PublicPort, method, target, WriteToken, method is "POST" or "PUT" ? """{"fromChatId":1,"messageId":2}""" : null);
                Assert.True(answer.Status is 400 or 404, $"public port, {method} {target}: {answer.Status}");
            }

            // Not even a 405 tells the public port's clients that the route exists elsewhere.
            Assert.Equal(404, (await RawHttp.SendAsync(bot.Process.PublicPort, "DELETE", path, WriteToken)).Status);
        }

        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM broadcasts"));
    }

    [Fact]
    public async Task The_read_token_reads_and_may_not_write()
    {
        await using var bot = await StartAsync();
        var port = bot.Process.InternalPort;
        foreach (var (method, path) in Routes.Where(r => r.Method == "GET"))
        {
            Assert.True((await RawHttp.SendAsync(port, method, path, ReadToken)).Status is 200 or 404);
        }

        var create = await RawHttp.SendAsync(port, "POST", "/admin/broadcasts", ReadToken, """{"fromChatId":1,"messageId":2}""");
        Assert.Equal(403, create.Status);
        Assert.Contains("write scope", create.Body, StringComparison.Ordinal);
        Assert.Equal(403, (await RawHttp.SendAsync(port, "POST", "/admin/broadcasts/1/cancel", ReadToken)).Status);
        Assert.Equal(403, (await RawHttp.SendAsync(port, "PUT", "/admin/audience-lists/vip", ReadToken, """{"userIds":[1]}""")).Status);
        Assert.Equal(403, (await RawHttp.SendAsync(port, "DELETE", "/admin/audience-lists/vip", ReadToken)).Status);
        // Counting an audience changes nothing: the read token may.
        var count = await RawHttp.SendAsync(port, "POST", "/admin/broadcasts/audience-count", ReadToken, """{"audience":{}}""");
        Assert.Equal(200, count.Status);
        Assert.Contains("\"count\":0", count.Body, StringComparison.Ordinal);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM broadcasts"));
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM audience_lists"));
        await bot.Process.WaitForOutputAsync("Admin API POST /admin/broadcasts: 403, scope read, token read, client 127.0.0.1");
    }

    [Fact]
    public async Task A_burst_of_wrong_tokens_from_one_address_is_throttled_while_the_right_token_elsewhere_still_gets_in()
    {
        await using var bot = await StartAsync(new() { ["Admin__FailedAuthenticationsPerMinute"] = "10" });
        var port = bot.Process.InternalPort;
        var statuses = new List<int>();
        for (var i = 0; i < 300; i++)
        {
            var answer = await RawHttp.SendAsync(port, "GET", "/admin/stats", $"guess-{i:D4}-0123456789abcdef", from: Attacker);
            statuses.Add(answer.Status);
            if (answer.Status == 429)
            {
                Assert.True(int.Parse(answer.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
            }

            if (i % 25 == 0)
            {
                Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", "/admin/stats", WriteToken)).Status);
            }
        }

        Assert.All(statuses.Take(10), s => Assert.Equal(401, s));
        Assert.All(statuses.Skip(10), s => Assert.Equal(429, s));
        // A throttled address learns nothing, not even that a guess was right.
        Assert.Equal(429, (await RawHttp.SendAsync(port, "GET", "/admin/stats", WriteToken, from: Attacker)).Status);
        Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", "/admin/stats", ReadToken)).Status);
    }

    [Fact]
    public async Task Webhook_posts_and_health_probes_are_not_failed_authentications_of_their_address()
    {
        await using var bot = await StartAsync(new() { ["Admin__FailedAuthenticationsPerMinute"] = "10" });
        for (var i = 0; i < 40; i++)
        {
            await BotGroup.PostAsync(bot.Process, Updates.Message(9000 + i, 42));
            Assert.Equal(200, (await RawHttp.SendAsync(bot.Process.InternalPort, "GET", "/readyz")).Status);
        }

        // Eighty requests from this address without a token, none of them to the admin API: it is not locked out.
        Assert.Equal(200, (await RawHttp.SendAsync(bot.Process.InternalPort, "GET", "/admin/stats", ReadToken)).Status);
        await bot.Process.WaitForOutputAsync("Admin API GET /admin/stats: 200, scope read");
    }

    [Fact]
    public async Task Both_the_current_and_the_previous_token_work_until_the_previous_one_is_removed_from_the_secrets()
    {
        var secrets = Directory.CreateTempSubdirectory("bot-secrets-");
        try
        {
            const string Previous = "admin-previous-token-0123456789";
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "Admin__Token"), WriteToken);
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "Admin__PreviousToken"), Previous);
            await using var bot = await StartAsync(new() { ["Secrets__Directory"] = secrets.FullName, ["Admin__Token"] = null, ["Admin__ReadToken"] = null });
            var port = bot.Process.InternalPort;
            Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", "/admin/stats", WriteToken)).Status);
            Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", "/admin/stats", Previous)).Status);
            await bot.Process.WaitForOutputAsync("token write-previous");

            File.Delete(Path.Combine(secrets.FullName, "Admin__PreviousToken"));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((await RawHttp.SendAsync(port, "GET", "/admin/stats", Previous)).Status != 401)
            {
                Assert.True(DateTime.UtcNow < deadline, "the removed token was still accepted after 30 s");
                await Task.Delay(250);
            }

            Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", "/admin/stats", WriteToken)).Status);

            // A rotation to a value that is too short is refused; the tokens in force stay.
            await File.WriteAllTextAsync(Path.Combine(secrets.FullName, "Admin__Token"), "short");
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!bot.Process.Output.Contains("Admin tokens not reloaded", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, "the bad token was not reported");
                await Task.Delay(250);
            }

            Assert.Equal(200, (await RawHttp.SendAsync(port, "GET", "/admin/stats", WriteToken)).Status);
            Assert.Equal(401, (await RawHttp.SendAsync(port, "GET", "/admin/stats", "short")).Status);
        }
        finally
        {
            secrets.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_same_idempotency_key_starts_one_broadcast_and_a_second_one_while_it_runs_is_refused()
    {
        await using var bot = await StartAsync();
        // Subscribers whose messages cannot be sent (no Bot API there): the broadcast stays running.
        await PostgresCluster.ExecuteAsync(bot.ConnectionString,
            "INSERT INTO users (user_id, status, subscribed_at) SELECT 200000 + n, 'active', now() FROM generate_series(1, 3) n");
        var port = bot.Process.InternalPort;
        const string Body = """{"fromChatId":1,"messageId":2}""";

        var twice = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            RawHttp.SendAsync(port, "POST", "/admin/broadcasts", WriteToken, Body, headers: "Idempotency-Key: 6f1c0c43-key")));
        Assert.All(twice, a => Assert.Equal(202, a.Status));
        Assert.Equal(twice[0].Header("Location"), twice[1].Header("Location"));
        var again = await RawHttp.SendAsync(port, "POST", "/admin/broadcasts", WriteToken, Body, headers: "Idempotency-Key: 6f1c0c43-key");
        Assert.Equal(202, again.Status);
        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM broadcasts"));

        var reused = await RawHttp.SendAsync(port, "POST", "/admin/broadcasts", WriteToken, """{"fromChatId":1,"messageId":3}""", headers: "Idempotency-Key: 6f1c0c43-key");
        Assert.Equal(422, reused.Status);
        Assert.Equal(400, (await RawHttp.SendAsync(port, "POST", "/admin/broadcasts", WriteToken, Body, headers: "Idempotency-Key: " + new string('k', 300))).Status);

        var second = await RawHttp.SendAsync(port, "POST", "/admin/broadcasts", WriteToken, """{"fromChatId":1,"messageId":3}""");
        Assert.Equal(409, second.Status);
        Assert.Contains("is still running", second.Body, StringComparison.Ordinal);
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM broadcasts"));

        var concurrent = await RawHttp.SendAsync(port, "POST", "/admin/broadcasts", WriteToken, """{"fromChatId":1,"messageId":3,"allowConcurrent":true}""");
        Assert.Equal(202, concurrent.Status);
        Assert.Equal(2, await bot.ScalarAsync("SELECT count(*) FROM broadcasts WHERE state = 'sending' AND requested_via = 'api:write'"));
    }

    [Fact]
    public async Task An_admin_body_over_64_KiB_is_refused_with_413_and_creates_nothing()
    {
        await using var bot = await StartAsync();
        var big = $$"""{"fromChatId":1,"messageId":2,"padding":"{{new string('a', 70_000)}}"}""";
        Assert.Equal(413, (await RawHttp.SendAsync(bot.Process.InternalPort, "POST", "/admin/broadcasts", WriteToken, big)).Status);
        var small = $$"""{"fromChatId":1,"messageId":2,"padding":"{{new string('a', 60_000)}}"}""";
        Assert.Equal(202, (await RawHttp.SendAsync(bot.Process.InternalPort, "POST", "/admin/broadcasts", WriteToken, small)).Status);
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM broadcasts"));
    }

    private Task<TestBot> StartAsync(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Admin__Token"] = WriteToken,
            ["Admin__ReadToken"] = ReadToken,
            // The spelling test makes hundreds of failed attempts from one address on purpose.
            ["Admin__FailedAuthenticationsPerMinute"] = "10000",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return TestBot.StartAsync(postgres.Cluster, settings);
    }
}
