using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>The Bot executable as a child process, with its output captured.</summary>
public sealed partial class BotProcess : IAsyncDisposable
{
    public const string BotToken = "123456789:TEST-token_for-integration-tests-only";
    public const string WebhookSecret = "integration-test-webhook-secret";

    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private readonly string[] secrets;

    private BotProcess(Process process, int publicPort, int internalPort, string[] secrets)
    {
        this.process = process;
        this.secrets = secrets;
        PublicPort = publicPort;
        InternalPort = internalPort;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int PublicPort { get; }

    public int InternalPort { get; }

    public Uri WebhookUri => new($"http://127.0.0.1:{PublicPort}/telegram/webhook");

    public Uri InternalUri => new($"http://127.0.0.1:{InternalPort}/");

    public string Output => string.Join('\n', output);

    public bool HasExited => process.HasExited;

    /// <summary>Waits until this replica says it leads (up to 20 s).</summary>
    public async Task WaitForLeadershipAsync()
    {
        for (var i = 0; i < 200 && !Output.Contains("This replica leads", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains("This replica leads", Output, StringComparison.Ordinal);
    }

    public int ExitCode => process.ExitCode;

    /// <summary>The bot's process id (for what /proc says of it).</summary>
    public int ProcessId => process.Id;

    /// <summary>Waits until the output holds <paramref name="text"/> (the console logger writes asynchronously).</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!Output.Contains(text, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Contains(text, Output, StringComparison.Ordinal);
    }

    /// <summary>Settings for a bot that serves on loopback against <paramref name="connectionString"/>.</summary>
    public static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["Database__ConnectionString"] = connectionString,
        ["Telegram__BotToken"] = BotToken,
        ["Telegram__WebhookSecret"] = WebhookSecret,
        ["Hosting__BindAddress"] = "127.0.0.1",
        ["Shutdown__DrainDelaySeconds"] = "0",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["Secrets__Directory"] = "/nonexistent",
        ["Config__Directory"] = "/nonexistent",
        // Nothing listens there: replies fail fast and stay queued. Tests that check sending use the fake Bot API.
        ["Telegram__ApiBaseUrl"] = "http://127.0.0.1:9",
        // The pipeline's tests send dozens of updates per synthetic user, which flood control would rightly drop;
        // its own tests switch it on.
        ["FeatureFlags__FloodControl"] = "false",
    };

    public static BotProcess Start(IDictionary<string, string?> settings, params string[] args)
    {
        var (publicPort, internalPort) = TwoFreePorts();
        var info = Info(settings, args);
        info.Environment["Hosting__PublicPort"] = publicPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Hosting__InternalPort"] = internalPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new BotProcess(Process.Start(info)!, publicPort, internalPort, SecretsIn(settings));
    }

    /// <summary>Runs a command (migrate ..., or serve expected to fail) to its end.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        IDictionary<string, string?> settings, TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(Info(settings, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Bot {string.Join(' ', args)} did not finish in {timeout}: {await stdout}{await stderr}");
        }

        var (output, errors) = (await stdout, await stderr);
        ThrowIfLeaked(SecretsIn(settings), output + "\n" + errors, args);
        return (process.ExitCode, output, errors);
    }

    /// <summary>
    /// The secret values among the settings, in every form the bot must keep out of what it prints: the bot token
    /// and its secret half (the part after the colon), the webhook secret, the admin tokens, the database password
    /// (alone or in the connection string). Values shorter than 8 characters are not treated as secrets, as the bot
    /// does not either.
    /// </summary>
    public static string[] SecretsIn(IDictionary<string, string?> settings)
    {
        string? Get(string key) => settings.TryGetValue(key, out var value) ? value : null;
        var candidates = new List<string?>
        {
            Get("Telegram__BotToken"), Get("Telegram__WebhookSecret"),
            Get("Admin__Token"), Get("Admin__PreviousToken"), Get("Admin__ReadToken"), Get("Admin__PreviousReadToken"), Get("Database__Password"),
        };
        if (Get("Telegram__BotToken") is { } token && token.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
        {
            candidates.Add(token[(colon + 1)..]);
        }

        foreach (var key in new[] { "Database__ConnectionString", "Database__ReadConnectionString" })
        {
            try
            {
                candidates.Add(new Npgsql.NpgsqlConnectionStringBuilder(Get(key) ?? "").Password);
            }
            catch (ArgumentException)
            {
            }
        }

        return candidates.Where(c => c is { Length: >= 8 }).Select(c => c!).Distinct().ToArray();
    }

    /// <summary>Every test that runs the bot also checks that no secret it was given appears in what it printed.</summary>
    public static void ThrowIfLeaked(IEnumerable<string> secrets, string output, string[]? args = null)
    {
        foreach (var secret in secrets)
        {
            var at = output.IndexOf(secret, StringComparison.Ordinal);
            if (at >= 0)
            {
                var around = output[Math.Max(0, at - 300)..Math.Min(output.Length, at + secret.Length + 100)].Replace(secret, "<SECRET>", StringComparison.Ordinal);
                throw new InvalidOperationException($"the bot{(args is { Length: > 0 } ? " " + string.Join(' ', args) : "")} printed a secret ({secret[..4]}…):\n{around}");
            }
        }
    }

    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Bot exited with {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(InternalUri, "readyz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            catch (System.Net.Sockets.SocketException)
            {
                // A connection the starting (or crashing) process drops at once can surface unwrapped
                // ("Transport endpoint is not connected" from the pool's connect): not ready yet, like any other.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Bot not ready in time:\n{Output}");
    }

    /// <summary>SIGKILL: the process dies mid-work, as in a node failure or an OOM kill.</summary>
    public void Kill()
    {
        _ = Kill(process.Id, 9);
        process.WaitForExit();
    }

    /// <summary>SIGTERM, as Kubernetes sends it.</summary>
    public void Terminate() => _ = Kill(process.Id, 15);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        ThrowIfLeaked(secrets, Output);
    }

    private static ProcessStartInfo Info(IDictionary<string, string?> settings, string[] args)
    {
        var info = new ProcessStartInfo(Repo.BotBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Only what the test says: nothing from the developer's own environment leaks in.
        foreach (var key in info.Environment.Keys.Where(IsBotSetting).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private static bool IsBotSetting(string key) =>
        key.Contains("__", StringComparison.Ordinal) || key.EndsWith("_ENVIRONMENT", StringComparison.Ordinal);

    /// <summary>Two free ports, held open together while they are chosen, so that they differ (one at a time, the kernel may hand out the same port twice).</summary>
    private static (int, int) TwoFreePorts()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        using var second = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        second.Start();
        return (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
