using System.Security.Cryptography;
using System.Text;
using Bot.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Coordination;

/// <summary>
/// Leadership as a PostgreSQL session advisory lock on a connection of its own: the server releases it
/// when the session ends, so a crashed or partitioned leader loses it without help. The leader checks its
/// session every <see cref="CoordinationOptions.RetrySeconds"/> and counts a failed check as lost.
/// </summary>
public sealed class PostgresLeaderLock(IOptions<DatabaseOptions> database, IOptions<CoordinationOptions> options, TimeProvider time) : ILeaderLock
{
    private readonly long key = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("bot.leader:" + options.Value.LeaseName)));
    private readonly TimeSpan check = TimeSpan.FromSeconds(options.Value.RetrySeconds);
    private readonly Lazy<NpgsqlDataSource> sessions = new(() =>
    {
        var builder = Database.BuildSessionConnectionString(database.Value, keepAliveSeconds: 5);
        builder.Timeout = 5;
        builder.CommandTimeout = 5;
        return Database.CreateSessionDataSource(builder);
    });

    private NpgsqlConnection? connection;
    private long confirmedAt;

    // The server ends a session idle for three checks (see TryAcquireAsync); a follower may hold the lock from then on.
    private TimeSpan IdleLimit => TimeSpan.FromSeconds(Math.Max(5, 3 * check.TotalSeconds));

    /// <inheritdoc/>
    public bool IsConfirmed => connection is not null && time.GetElapsedTime(Interlocked.Read(ref confirmedAt)) < IdleLimit - check;

    public async Task<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        await DropConnectionAsync();
        // The lock lives and dies with this session.
        var candidate = sessions.Value.CreateConnection();
        try
        {
            await candidate.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", candidate);
            command.Parameters.Add(Sql.Arg<long>(key));
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
            {
                // A leader that stalls (SIGSTOP, a frozen VM) keeps its socket open, so the server would keep its
                // session, and the lock, for as long as it is stopped. The leader checks its session every
                // RetrySeconds; a session idle for three checks is one whose holder stalled, and the server ends
                // it, which frees the lock for a follower.
                var sent = time.GetTimestamp();
                await using var timeout = new NpgsqlCommand(
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SET idle_session_timeout = {(long)IdleLimit.TotalMilliseconds}"), candidate);
                await timeout.ExecuteNonQueryAsync(cancellationToken);
                Interlocked.Exchange(ref confirmedAt, sent);
                connection = candidate;
                return true;
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
        }

        await candidate.DisposeAsync();
        return false;
    }

    public async Task WaitUntilLostAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && connection is not null)
        {
            await Task.Delay(check, cancellationToken);
            try
            {
                // Still our session, and the lock still ours (an administrator may have terminated it).
                var sent = time.GetTimestamp();
                await using var command = new NpgsqlCommand(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted", connection);
                if (await command.ExecuteScalarAsync(cancellationToken) is not > 0L)
                {
                    return;
                }

                // Confirmed as of when the check was sent: the session was alive then, so no one else holds the lock.
                Interlocked.Exchange(ref confirmedAt, sent);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return;
            }
        }
    }

    public async Task ReleaseAsync()
    {
        if (connection is { State: System.Data.ConnectionState.Open })
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
                command.Parameters.Add(Sql.Arg<long>(key));
                await command.ExecuteNonQueryAsync();
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                // Closing the session below releases it as well.
            }
        }

        await DropConnectionAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        if (sessions.IsValueCreated)
        {
            await sessions.Value.DisposeAsync();
        }
    }

    private async Task DropConnectionAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
            connection = null;
        }
    }
}
