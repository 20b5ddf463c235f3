using Bot.Storage;
using Npgsql;

namespace Bot.Tests.Unit.Storage;

public sealed class DatabaseErrorTests
{
    [Theory]
    [InlineData("57P03")] // the database system is starting up / in recovery
    [InlineData("57P01")] // terminating connection due to administrator command (a fast shutdown)
    [InlineData("57P02")] // crash shutdown
    [InlineData("53300")] // too many connections
    [InlineData("08006")] // connection failure
    public void States_that_pass_by_themselves_are_unavailability(string sqlState) =>
        Assert.True(Database.IsUnavailable(new PostgresException("message", "FATAL", "FATAL", sqlState)));

    [Theory]
    [InlineData("28P01")] // wrong password: waiting does not mend it
    [InlineData("3D000")] // no such database
    [InlineData("42P01")] // no such table
    [InlineData("23505")] // unique violation
    public void Faults_are_not_unavailability(string sqlState) =>
        Assert.False(Database.IsUnavailable(new PostgresException("message", "FATAL", "FATAL", sqlState)));

    [Fact]
    public void No_connection_and_timeouts_are_unavailability()
    {
        Assert.True(Database.IsUnavailable(new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111))));
        Assert.True(Database.IsUnavailable(new TimeoutException()));
        Assert.True(Database.IsUnavailable(new OperationCanceledException()));
        Assert.False(Database.IsUnavailable(new InvalidOperationException()));
    }
}
