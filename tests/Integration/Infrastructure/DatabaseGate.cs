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
public sealed class DatabaseGate : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int targetPort;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;

    public DatabaseGate(int targetPort)
    {
        this.targetPort = targetPort;
        listener.Start();
        accepting = AcceptAsync();
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

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>How many connections were answered with 57P03: shows the client really met that state.</summary>
    public int StartingUpAnswers => startingUpAnswers;

    private int startingUpAnswers;

    /// <summary><paramref name="connectionString"/> pointed at this gate instead of the server.</summary>
    public string Through(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Port = Port }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
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
                            await server.ConnectAsync(IPAddress.Loopback, targetPort, stop.Token);
                            var up = client.GetStream().CopyToAsync(server.GetStream(), stop.Token);
                            var down = server.GetStream().CopyToAsync(client.GetStream(), stop.Token);
                            await Task.WhenAny(up, down);
                        }

                        return;
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    private async Task AnswerStartingUpAsync(NetworkStream stream)
    {
        // SSLRequest and GSSENCRequest come first and are declined with 'N'; then the StartupMessage.
        while (true)
        {
            var header = new byte[8];
            await stream.ReadExactlyAsync(header, stop.Token);
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            var code = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
            if (code is 80877103 or 80877104 && length == 8)
            {
                await stream.WriteAsync("N"u8.ToArray(), stop.Token);
                continue;
            }

            await stream.ReadExactlyAsync(new byte[length - 8], stop.Token);
            break;
        }

        var fields = Encoding.UTF8.GetBytes("SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0");
        var message = new byte[1 + 4 + fields.Length];
        message[0] = (byte)'E';
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + fields.Length);
        fields.CopyTo(message, 5);
        await stream.WriteAsync(message, stop.Token);
        Interlocked.Increment(ref startingUpAnswers);
    }
}
