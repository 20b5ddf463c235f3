using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>
/// A TCP stand-in in front of a real PostgreSQL server that can play the states a database passes through
/// while it restarts: refusing connections, answering every log-in with PostgreSQL's own FATAL 57P03 ("the
/// database system is starting up"), and finally passing every byte through to the real server.
/// </summary>
public sealed class DatabaseGate : Bot.Tests.Common.LoopbackServer
{
    private readonly int targetPort;

    public DatabaseGate(int targetPort)
    {
        this.targetPort = targetPort;
        Start();
    }

    public enum State
    {
        /// <summary>Accepts and closes at once, as a port with nothing behind it would.</summary>
        Closed,

        /// <summary>Answers the log-in with FATAL 57P03, as PostgreSQL does while it recovers or starts.</summary>
        StartingUp,

        /// <summary>Forwards to the real server.</summary>
        Open,
    }

    public State Mode { get; set; } = State.Closed;

    /// <summary>How many connections were answered with 57P03: shows the client really met that state.</summary>
    public int StartingUpAnswers => startingUpAnswers;

    private int startingUpAnswers;

    /// <summary><paramref name="connectionString"/> pointed at this gate instead of the server.</summary>
    public string Through(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Port = Port }.ConnectionString;

    protected override async Task ServeAsync(TcpClient client)
    {
        switch (Mode)
        {
            case State.Closed:
                return;
            case State.StartingUp:
                await AnswerStartingUpAsync(client.GetStream());
                return;
            default:
                using (var server = new TcpClient())
                {
                    await server.ConnectAsync(IPAddress.Loopback, targetPort, Stop.Token);
                    var up = client.GetStream().CopyToAsync(server.GetStream(), Stop.Token);
                    var down = server.GetStream().CopyToAsync(client.GetStream(), Stop.Token);
                    await Task.WhenAny(up, down);
                }

                return;
        }
    }

    private async Task AnswerStartingUpAsync(NetworkStream stream)
    {
        // SSLRequest and GSSENCRequest come first and are declined with 'N'; then the StartupMessage.
        while (true)
        {
            var header = new byte[8];
            await stream.ReadExactlyAsync(header, Stop.Token);
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            var code = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            if (code is 80877103 or 80877104 && length == 8)
            {
                await stream.WriteAsync("N"u8.ToArray(), Stop.Token);
                continue;
            }

            await stream.ReadExactlyAsync(new byte[length - 8], Stop.Token);
            break;
        }

        var fields = Encoding.UTF8.GetBytes("SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0");
        var message = new byte[1 + 4 + fields.Length];
        message[0] = (byte)'E';
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + fields.Length);
        fields.CopyTo(message, 5);
        await stream.WriteAsync(message, Stop.Token);
        Interlocked.Increment(ref startingUpAnswers);
    }
}
