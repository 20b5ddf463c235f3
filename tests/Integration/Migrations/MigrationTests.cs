using Bot.Tests.Integration.Infrastructure;
using Npgsql;

namespace Bot.Tests.Integration.Migrations;

public sealed class MigrationTests(SharedPostgres postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Up_from_empty_down_to_zero_and_up_again()
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());

        var status = await BotProcess.RunAsync(settings, Timeout, "migrate", "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Matches(@"0001\s+inbox\s+pending", status.Stdout);

        Assert.Equal(0, (await BotProcess.RunAsync(settings, Timeout, "migrate", "up")).ExitCode);
        Assert.True(await TableExistsAsync(settings, "inbox"));
        Assert.Matches(@"0001\s+inbox\s+applied", (await BotProcess.RunAsync(settings, Timeout, "migrate", "status")).Stdout);

        var down = await BotProcess.RunAsync(settings, Timeout, "migrate", "down", "--to", "0");
        Assert.Equal(0, down.ExitCode);
        Assert.Contains("schema at version 0", down.Stdout, StringComparison.Ordinal);
        Assert.False(await TableExistsAsync(settings, "inbox"));
        Assert.Equal(0, await ScalarAsync(settings, "SELECT count(*) FROM schema_migrations"));

        Assert.Equal(0, (await BotProcess.RunAsync(settings, Timeout, "migrate", "up")).ExitCode);
        Assert.True(await TableExistsAsync(settings, "inbox"));
        var again = await BotProcess.RunAsync(settings, Timeout, "migrate", "up");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("up to date", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migration_waits_for_a_busy_table_briefly_and_retries_instead_of_queueing_the_bot_behind_it()
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());
        Assert.Equal(0, (await BotProcess.RunAsync(settings, Timeout, "migrate", "up", "--to", "6")).ExitCode);

        // A long transaction holds a lock that 0007's triggers conflict with (as a busy writer would).
        await using var holder = new NpgsqlConnection(settings["Database__ConnectionString"]);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockIt = new NpgsqlCommand("LOCK TABLE inbox IN ROW EXCLUSIVE MODE", holder, transaction))
        {
            await lockIt.ExecuteNonQueryAsync();
        }

        var migrate = BotProcess.RunAsync(settings, Timeout, "migrate", "up");
        await Task.Delay(TimeSpan.FromSeconds(8));
        // Meanwhile the table stays usable: the migration gave its place in the lock queue up each time.
        await using (var reader = new NpgsqlConnection(settings["Database__ConnectionString"]))
        {
            await reader.OpenAsync();
            await using var count = new NpgsqlCommand("SET lock_timeout = '1s'; SELECT count(*) FROM inbox", reader);
            await count.ExecuteScalarAsync();
        }

        await transaction.CommitAsync();
        var result = await migrate;
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("a lock was not free within 3 s (attempt 1 of 10)", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\d{4}\s+\S+\s+pending", (await BotProcess.RunAsync(settings, Timeout, "migrate", "status")).Stdout);
    }

    [Fact]
    public async Task Concurrent_runs_leave_one_consistent_schema()
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => BotProcess.RunAsync(settings, Timeout, "migrate", "up")));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        Assert.Single(runs, r => r.Stdout.Contains("applying 0001_inbox", StringComparison.Ordinal));
        var latest = await ScalarAsync(settings, "SELECT max(version) FROM schema_migrations");
        Assert.Equal(latest, await ScalarAsync(settings, "SELECT count(DISTINCT version) FROM schema_migrations"));
        Assert.Equal(latest, await ScalarAsync(settings, "SELECT count(*) FROM schema_migrations"));
        Assert.True(await TableExistsAsync(settings, "inbox"));
    }

    [Fact]
    public async Task Serve_refuses_a_schema_that_is_behind()
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());

        var serve = await BotProcess.RunAsync(settings, Timeout, "serve");

        Assert.NotEqual(0, serve.ExitCode);
        Assert.Contains("run 'Bot migrate up' first", serve.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_is_refused()
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());
        Assert.Equal(0, (await BotProcess.RunAsync(settings, Timeout, "migrate", "up")).ExitCode);
        await ScalarAsync(settings, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1 RETURNING 1");

        var up = await BotProcess.RunAsync(settings, Timeout, "migrate", "up");

        Assert.NotEqual(0, up.ExitCode);
        Assert.Contains("was changed after it was applied", up.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"0001\s+inbox\s+modified", (await BotProcess.RunAsync(settings, Timeout, "migrate", "status")).Stdout);
    }

    [Fact]
    public async Task A_newer_schema_than_the_release_knows_is_reported_and_not_reverted()
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());
        Assert.Equal(0, (await BotProcess.RunAsync(settings, Timeout, "migrate", "up")).ExitCode);
        await ScalarAsync(settings, "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'from_a_newer_release', 'x') RETURNING 1");

        var status = await BotProcess.RunAsync(settings, Timeout, "migrate", "status");
        var down = await BotProcess.RunAsync(settings, Timeout, "migrate", "down");

        Assert.Matches(@"0999\s+from_a_newer_release\s+unknown", status.Stdout);
        Assert.NotEqual(0, down.ExitCode);
        Assert.Contains("revert it with the release that added it", down.Stderr, StringComparison.Ordinal);
        Assert.True(await TableExistsAsync(settings, "inbox"));
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("migrate", "sideways")]
    [InlineData("migrate", "up", "--to", "x")]
    [InlineData("migrate", "up", "--to", "99")]
    [InlineData("frobnicate")]
    public async Task Bad_arguments_exit_non_zero_with_a_reason(params string[] args)
    {
        var settings = BotProcess.Settings(await postgres.Cluster.CreateDatabaseAsync());

        var run = await BotProcess.RunAsync(settings, Timeout, args);

        Assert.NotEqual(0, run.ExitCode);
        Assert.StartsWith("Bot: ", run.Stderr.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }

    private static async Task<bool> TableExistsAsync(IDictionary<string, string?> settings, string table) =>
        await ScalarAsync(settings, $"SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '{table}'") == 1;

    private static Task<long> ScalarAsync(IDictionary<string, string?> settings, string sql) =>
        PostgresCluster.ScalarAsync(settings["Database__ConnectionString"]!, sql);
}
