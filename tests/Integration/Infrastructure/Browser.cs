using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>
/// A headless Chromium page (tests/Browser/driver.mjs: playwright-core driving Debian's chromium), one command at a
/// time. A step that fails throws with the driver's reason and the page's console errors so far. Screenshots go to
/// artifacts/test-results/screenshots, which the pipeline keeps.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    public static readonly string ScreenshotDirectory = Path.Combine(Repo.Root, "artifacts", "test-results", "screenshots");

    private readonly Process process;
    private readonly List<string> stderr = [];
    private int next;

    private Browser(Process process)
    {
        this.process = process;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.Add(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
    }

    public static async Task<Browser> StartAsync()
    {
        var directory = Path.Combine(Repo.Root, "tests", "Browser");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "playwright-core")))
        {
            throw new InvalidOperationException("tests/Browser/node_modules is missing: run npm ci in tests/Browser (scripts/test.sh does)");
        }

        var info = new ProcessStartInfo("node", ["driver.mjs"])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var browser = new Browser(Process.Start(info)!);
        var ready = await browser.ReadAsync(TimeSpan.FromSeconds(60));
        if (ready?["ready"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException("the browser did not start: " + browser.Errors());
        }

        return browser;
    }

    public Task GotoAsync(string url) => RunAsync("goto", new JsonObject { ["url"] = url });

    public Task WaitForAsync(string selector, int timeoutMs = 15000, string state = "attached") =>
        RunAsync("waitFor", new JsonObject { ["selector"] = selector, ["timeout"] = timeoutMs, ["state"] = state });

    public Task ClickAsync(string selector) => RunAsync("click", new JsonObject { ["selector"] = selector });

    public Task FillAsync(string selector, string value) => RunAsync("fill", new JsonObject { ["selector"] = selector, ["value"] = value });

    public Task SelectAsync(string selector, string value) => RunAsync("select", new JsonObject { ["selector"] = selector, ["value"] = value });

    public async Task<string?> TextAsync(string selector) => (await RunAsync("text", new JsonObject { ["selector"] = selector }))?.GetValue<string>();

    public async Task<string?> AttrAsync(string selector, string name) =>
        (await RunAsync("attr", new JsonObject { ["selector"] = selector, ["name"] = name }))?.GetValue<string>();

    public async Task<List<string?>> AttrsAsync(string selector, string name) =>
        [.. (await RunAsync("attrs", new JsonObject { ["selector"] = selector, ["name"] = name }))!.AsArray().Select(v => v?.GetValue<string>())];

    public async Task<int> CountAsync(string selector) => (await RunAsync("count", new JsonObject { ["selector"] = selector }))!.GetValue<int>();

    /// <summary>Saves the page as <paramref name="name"/>.png under <see cref="ScreenshotDirectory"/>.</summary>
    public Task ScreenshotAsync(string name) => RunAsync("screenshot", new JsonObject { ["path"] = Path.Combine(ScreenshotDirectory, name + ".png") });

    /// <summary>The console errors, failed requests and CSP violations since the last call.</summary>
    public async Task<List<string>> ProblemsAsync() =>
        [.. (await RunAsync("problems", []))!.AsArray().Select(v => v!.GetValue<string>())];

    /// <summary>Waits until <paramref name="read"/> gives what <paramref name="done"/> accepts; the last value read otherwise fails.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T value;
        while (!done(value = await read()))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: still {value} after {timeout.TotalSeconds} s");
            }

            await Task.Delay(100);
        }

        return value;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                await process.StandardInput.WriteLineAsync("""{"id":-1,"op":"close"}""");
                if (!process.WaitForExit(5000))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
    }

    private async Task<JsonNode?> RunAsync(string op, JsonObject command)
    {
        var id = ++next;
        command["id"] = id;
        command["op"] = op;
        await process.StandardInput.WriteLineAsync(command.ToJsonString());
        await process.StandardInput.FlushAsync();
        var answer = await ReadAsync(TimeSpan.FromSeconds(60)) ?? throw new InvalidOperationException($"the browser stopped during {op}: {Errors()}");
        if (answer["id"]?.GetValue<int>() != id)
        {
            throw new InvalidOperationException($"the browser answered {answer.ToJsonString()} to {op} {id}");
        }

        if (answer["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"browser {op} {command.ToJsonString()} failed: {answer["error"]}; page problems: {string.Join(" | ", await SafeProblemsAsync())}");
        }

        return answer["value"];
    }

    private async Task<List<string>> SafeProblemsAsync()
    {
        try
        {
            await process.StandardInput.WriteLineAsync($$"""{"id":{{++next}},"op":"problems"}""");
            var answer = await ReadAsync(TimeSpan.FromSeconds(10));
            return answer?["value"] is JsonArray values ? [.. values.Select(v => v!.GetValue<string>())] : [];
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException or JsonException)
        {
            return [];
        }
    }

    private async Task<JsonObject?> ReadAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var line = await process.StandardOutput.ReadLineAsync(cancel.Token);
        return line is null ? null : JsonNode.Parse(line)!.AsObject();
    }

    private string Errors()
    {
        lock (stderr)
        {
            return string.Join('\n', stderr.TakeLast(20));
        }
    }
}
