using Bot.Hosting;
using Bot.Storage;
using Bot.Tests.Unit.Coordination;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Bot.Tests.Unit.Storage;

/// <summary>
/// Where lag-tolerant reads go: the standby while it answers, the primary for ReadRetrySeconds after it did not, and
/// the primary at once for a read the standby's recovery cancelled. (The integration suite shows it with a real
/// streaming standby.)
/// </summary>
public sealed class ReadReplicaTests
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Without_a_standby_every_read_runs_once_on_the_primary()
    {
        await using var primary = NpgsqlDataSource.Create("Host=primary");
        await using var reads = new ReadReplica(primary, null, Retry, TimeProvider.System, NullLogger<ReadReplica>.Instance);
        var calls = 0;

        Assert.Equal(7, await reads.ReadAsync((_, _) => Task.FromResult(++calls == 1 ? 7 : -1), CancellationToken.None));
        Assert.Equal(1, calls);
        Assert.False(reads.HasStandby);
    }

    [Fact]
    public async Task An_unreachable_standby_sends_reads_to_the_primary_until_the_retry_time_has_passed()
    {
        var clock = new ManualClock(DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var primary = NpgsqlDataSource.Create("Host=primary");
        await using var reads = WithStandby(primary, clock);
        // A read whose first call fails as an unreachable server does: it takes two calls when the standby is tried
        // (the standby's, then the primary's) and one when it is not.
        var calls = 0;
        Task<int> Unreachable(Db db, CancellationToken cancellationToken) =>
            ++calls == 1 ? throw new NpgsqlException("Failed to connect to 127.0.0.1:5433") : Task.FromResult(calls);

        Assert.Equal(2, await reads.ReadAsync(Unreachable, CancellationToken.None));
        Assert.True(reads.StandbyAvoided);

        calls = 0;
        clock.Advance(Retry - TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<NpgsqlException>(() => reads.ReadAsync(Unreachable, CancellationToken.None));
        Assert.Equal(1, calls);

        // The wall clock stepping back an hour does not keep the standby out longer.
        clock.StepWallClock(TimeSpan.FromHours(-1));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(reads.StandbyAvoided);
        calls = 0;
        Assert.Equal(2, await reads.ReadAsync(Unreachable, CancellationToken.None));
    }

    [Fact]
    public async Task A_read_cancelled_by_the_standbys_recovery_runs_again_on_the_primary_and_the_standby_stays_in_use()
    {
        await using var primary = NpgsqlDataSource.Create("Host=primary");
        await using var reads = WithStandby(primary);
        var calls = 0;

        var result = await reads.ReadAsync(
            (_, _) => ++calls == 1 ? throw new PostgresException("canceling statement due to conflict with recovery", "ERROR", "ERROR", "40001") : Task.FromResult(calls),
            CancellationToken.None);

        Assert.Equal(2, result);
        Assert.False(reads.StandbyAvoided);
    }

    [Fact]
    public async Task A_fault_that_waiting_does_not_mend_and_the_callers_cancellation_are_not_hidden_by_a_second_read()
    {
        await using var primary = NpgsqlDataSource.Create("Host=primary");
        await using var reads = WithStandby(primary);
        var calls = 0;

        await Assert.ThrowsAsync<PostgresException>(() => reads.ReadAsync<int>(
            (_, _) => { calls++; throw new PostgresException("relation \"x\" does not exist", "ERROR", "ERROR", "42P01"); }, CancellationToken.None));
        Assert.Equal(1, calls);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        calls = 0;
        await Assert.ThrowsAsync<OperationCanceledException>(() => reads.ReadAsync<int>(
            (_, token) => { calls++; throw new OperationCanceledException(token); }, cancelled.Token));
        Assert.Equal(1, calls);
        Assert.False(reads.StandbyAvoided);
    }

    /// <summary>A read replica of <paramref name="primary"/> with a standby that is never reached (the reads here are stand-ins).</summary>
    private static ReadReplica WithStandby(NpgsqlDataSource primary, TimeProvider? time = null) =>
        new(primary, NpgsqlDataSource.Create("Host=standby"), Retry, time ?? TimeProvider.System, NullLogger<ReadReplica>.Instance);

    [Fact]
    public void The_read_connection_string_takes_the_primarys_settings_and_password_and_a_short_connect_timeout()
    {
        var options = new DatabaseOptions
        {
            ConnectionString = "Host=db-rw;Username=bot;Database=bot",
            ReadConnectionString = "Host=db-ro;Username=bot;Database=bot",
            Password = "secret-password",
        };

        var read = new NpgsqlConnectionStringBuilder(Database.BuildReadConnectionString(options));

        Assert.Equal("db-ro", read.Host);
        Assert.Equal("secret-password", read.Password);
        Assert.Equal("bot", read.ApplicationName);
        Assert.Equal(5, read.Timeout);
        Assert.Equal(new NpgsqlConnectionStringBuilder(Database.BuildConnectionString(options)).Options, read.Options);
        Assert.Null(Database.BuildReadConnectionString(new DatabaseOptions { ConnectionString = "Host=db", ReadConnectionString = " " }));
    }

    [Fact]
    public void A_multi_host_read_string_keeps_its_hosts_target_and_timeout()
    {
        var read = new NpgsqlConnectionStringBuilder(Database.BuildReadConnectionString(new DatabaseOptions
        {
            ConnectionString = "Host=db-rw",
            ReadConnectionString = "Host=db-1:5432,db-2:5432;Target Session Attributes=prefer-standby;timeout=9",
        }));

        Assert.Equal("db-1:5432,db-2:5432", read.Host);
        Assert.Equal("prefer-standby", read.TargetSessionAttributes);
        Assert.Equal(9, read.Timeout);
    }

    [Fact]
    public void An_unparseable_read_connection_string_is_reported_by_its_name_without_its_content()
    {
        var error = Assert.Throws<StartupException>(() => Database.BuildReadConnectionString(
            new DatabaseOptions { ConnectionString = "Host=db", ReadConnectionString = "Host=db;Passwrod=SENTINEL;=" }));

        Assert.Contains("Database:ReadConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", error.Message, StringComparison.Ordinal);
    }
}
