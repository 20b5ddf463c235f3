using System.Net;
using System.Net.Sockets;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>
/// An HttpListener on a free loopback port that serves each request on its own task: what the stand-ins for outside
/// services (the OTLP collector, Sentry, Discord) share.
/// </summary>
public abstract class LoopbackServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task loop;

    protected LoopbackServer()
    {
        Port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    protected abstract Task ServeAsync(HttpListenerContext context);

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop;
    }

    private async Task AcceptAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await ServeAsync(context);
                }
                catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
                {
                }
            });
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
