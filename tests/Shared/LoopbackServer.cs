using System.Net;
using System.Net.Sockets;

namespace Bot.Tests.Common;

/// <summary>
/// A TCP server on a free loopback port that hands each connection to <see cref="ServeAsync"/> until disposed: the
/// base of the tests' stand-ins that must see or shape every byte (a database gate, a raw HTTP server). Linked into
/// each test project from tests/Shared.
/// </summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly List<Task> connections = [];
    private Task accepting = Task.CompletedTask;

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Cancelled when the server is disposed; the connections' work stops with it.</summary>
    protected CancellationTokenSource Stop { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await Stop.CancelAsync();
        listener.Stop();
        await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] open;
        lock (connections)
        {
            open = [.. connections];
        }

        await Task.WhenAll(open).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts listening; call once, from the derived type's constructor.</summary>
    protected void Start()
    {
        listener.Start();
        accepting = AcceptAsync();
    }

    /// <summary>Serves one connection; the client is disposed after it returns. I/O and cancellation ends are expected.</summary>
    protected abstract Task ServeAsync(TcpClient client);

    private async Task AcceptAsync()
    {
        try
        {
            while (!Stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(Stop.Token);
                lock (connections)
                {
                    connections.RemoveAll(c => c.IsCompleted);
                    connections.Add(RunAsync(client));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RunAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                await ServeAsync(client);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }
}
