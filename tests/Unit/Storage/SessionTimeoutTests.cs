using Bot.Storage;
using Npgsql;

namespace Bot.Tests.Unit.Storage;

public sealed class SessionTimeoutTests
{
    [Fact]
    public void Every_session_starts_with_the_statement_lock_and_idle_in_transaction_timeouts()
    {
        var built = new NpgsqlConnectionStringBuilder(Database.BuildConnectionString(new DatabaseOptions { ConnectionString = "Host=db;Username=bot" }));
        Assert.Equal("-c statement_timeout=15000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000", built.Options);
    }

    [Fact]
    public void A_timeout_named_in_the_connection_string_keeps_its_value_and_zero_turns_one_off()
    {
        var built = new NpgsqlConnectionStringBuilder(Database.BuildConnectionString(new DatabaseOptions
        {
            ConnectionString = "Host=db;Username=bot;Options=-c lock_timeout=100 -c search_path=bot",
            StatementTimeoutSeconds = 0,
        }));
        Assert.Equal("-c lock_timeout=100 -c search_path=bot -c statement_timeout=0 -c idle_in_transaction_session_timeout=60000", built.Options);
    }
}
