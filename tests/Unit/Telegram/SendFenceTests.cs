using System.Net.Sockets;
using System.Text;
using Bot.Telegram;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Telegram.Bot;

namespace Bot.Tests.Unit.Telegram;

/// <summary>
/// The sender client asks the calling flow's fence before writing a call's bytes: refused, nothing reaches the
/// server (a raw socket here, so that every byte is seen); allowed, or with no fence set, the call goes out.
/// </summary>
public sealed class SendFenceTests : IAsyncDisposable
{
    private const string Token = "123456789:unit-test-token-not-real-aaaaaaaa";
    private readonly RawServer server = new();
    private readonly ServiceProvider services;
    private readonly ITelegramBotClient sender;

    public SendFenceTests()
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddMetrics();
        collection.AddSingleton(new Bot.Coordination.LeadershipState());
        collection.AddSingleton(new Bot.Telemetry.QueueSnapshot(TimeProvider.System));
        collection.AddSingleton<Bot.Telemetry.BotMetrics>();
        collection.AddSingleton(Options.Create(new TelegramOptions { BotToken = Token, ApiBaseUrl = server.Url }));
        collection.AddTelegramClients();
        services = collection.BuildServiceProvider();
        sender = services.GetRequiredService<TelegramClients>().Sender;
    }

    private static CancellationToken Token_ => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_refused_call_writes_nothing_and_is_recognised_as_refused()
    {
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => CallUnder(() => false));

        Assert.True(SendFence.Refused(exception), exception.ToString());
        await Task.Delay(200, Token_);
        Assert.Equal(0, server.RequestsSeen);
        Assert.Equal(0, server.BytesReceived);
    }

    [Fact]
    public async Task An_allowed_call_and_a_call_without_a_fence_go_out()
    {
        await CallUnder(() => true);
        await sender.Close(Token_);

        Assert.Equal(2, server.RequestsSeen);
    }

    [Fact]
    public async Task The_fence_is_asked_at_the_write_not_when_it_was_set()
    {
        // Allowed when set and when the call starts; refused by the time the request is written on a pooled connection.
        var allowed = true;
        await CallUnder(() => allowed);
        allowed = false;
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => CallUnder(() => allowed));

        Assert.True(SendFence.Refused(exception), exception.ToString());
        Assert.Equal(1, server.RequestsSeen);
    }

    [Fact]
    public async Task A_fence_holds_only_inside_the_method_that_set_it()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => CallUnder(() => false));

        // Made after that method returned: no fence applies, on the same client and pool.
        await sender.Close(Token_);
        Assert.Equal(1, server.RequestsSeen);
    }

    [Fact]
    public async Task Refused_calls_do_not_open_the_senders_circuit()
    {
        // The circuit opens at half of at least 20 calls failing; refusals say nothing of Telegram and must not count.
        for (var i = 0; i < 30; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => CallUnder(() => false));
        }

        await sender.Close(Token_);
        Assert.Equal(1, server.RequestsSeen);
    }

    [Fact]
    public void Other_failures_are_not_taken_for_refusals()
    {
        Assert.False(SendFence.Refused(new HttpRequestException("connection refused", new IOException("reset"))));
        Assert.True(SendFence.Refused(new HttpRequestException("wrapped", new SendFencedException())));
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        await server.DisposeAsync();
    }

    private async Task CallUnder(Func<bool> mayWrite)
    {
        SendFence.Set(mayWrite);
        await sender.Close(Token_);
    }

    /// <summary>An HTTP/1.1 server on a raw socket that counts every byte and answers each request with a Bot API true.</summary>
    private sealed class RawServer : Bot.Tests.Common.LoopbackServer
    {
        private int requests;
        private long bytes;

        public RawServer() => Start();

        public string Url => $"http://127.0.0.1:{Port}/";

        public int RequestsSeen => Volatile.Read(ref requests);

        public long BytesReceived => Interlocked.Read(ref bytes);

        protected override async Task ServeAsync(TcpClient client)
        {
            var stream = client.GetStream();
            var buffer = new byte[8192];
            var pending = new StringBuilder();
            var answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{\"ok\":true,\"result\":true}");
            while (true)
            {
                var read = await stream.ReadAsync(buffer, Stop.Token);
                if (read == 0)
                {
                    return;
                }

                Interlocked.Add(ref bytes, read);
                pending.Append(Encoding.ASCII.GetString(buffer, 0, read));
                // One request: its headers, then Content-Length bytes of body.
                while (Complete(pending) is { } length)
                {
                    pending.Remove(0, length);
                    Interlocked.Increment(ref requests);
                    await stream.WriteAsync(answer, Stop.Token);
                }
            }
        }

        private static int? Complete(StringBuilder pending)
        {
            var text = pending.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                return null;
            }

            var body = 0;
            foreach (var line in text[..end].Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    body = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            return text.Length >= end + 4 + body ? end + 4 + body : null;
        }
    }
}
