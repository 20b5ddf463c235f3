// Pipeline benchmark: the bot (the published binary by default) between a webhook load and the fake Bot API.
//   latency   updates at a constant rate (one per chat, Telegram's limits lifted on both sides): webhook ack
//             latency and webhook-in to reply-at-the-fake latency, p50/p99, after a warm-up run at the same rate
//   sending   a backlog to 400 chats under Telegram's real limits: replies delivered per second over 60 s, 429s
// Needs Database__ConnectionString (a migrated database) in the environment; see tests/Load/pipeline.sh.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FakeTelegram;
using Microsoft.Extensions.Logging;

// --binary [name=]PATH, once or more: with two or more, the latency part runs for each in turn (--rounds times, the
// order reversed every other round) and a table compares their CPU per update; the sending part runs for the first.
var binaries = Args("--binary").Select(b => b.Split('=', 2) is [var name, var path] && !name.Contains('/') ? (Name: name, Path: path) : (Name: Path.GetFileName(Path.GetDirectoryName(b)) ?? b, Path: b)).ToList();
if (binaries.Count == 0)
{
    binaries.Add(("bot", "artifacts/publish/Bot"));
}

var binary = binaries[0].Path;
var rounds = int.Parse(Arg("--rounds", "1"), CultureInfo.InvariantCulture);
// PostgreSQL's postmaster.pid: its processes' CPU time counts with the bot's (the statements are the pipeline's work).
var postmasterPidFile = Arg("--pg-pid-file", "");
var rate = int.Parse(Arg("--rate", "500"), CultureInfo.InvariantCulture);
var seconds = int.Parse(Arg("--seconds", "20"), CultureInfo.InvariantCulture);
var sendSeconds = int.Parse(Arg("--send-seconds", "60"), CultureInfo.InvariantCulture);
var warmupSeconds = int.Parse(Arg("--warmup-seconds", "3"), CultureInfo.InvariantCulture);
const string secret = "pipeline-benchmark-secret-0123";

var runs = 0;
var cpu = binaries.ToDictionary(b => b.Name, _ => new List<double>());
for (var round = 0; round < rounds; round++)
{
    foreach (var (name, path) in round % 2 == 0 ? binaries : Enumerable.Reverse(binaries).ToList())
    {
        Console.WriteLine(binaries.Count > 1 || rounds > 1 ? $"--- {name} ({path}), round {round + 1}" : $"--- {path}");
        binary = path;
        cpu[name].Add(await Latency());
    }
}

if (binaries.Count > 1 || rounds > 1)
{
    Console.WriteLine();
    Console.WriteLine("CPU per handled update (bot + PostgreSQL), median of the rounds:");
    var first = Median(cpu[binaries[0].Name]);
    foreach (var (name, _) in binaries)
    {
        var median = Median(cpu[name]);
        Console.WriteLine(FormattableString.Invariant($"  {name,-24} {median,7:F3} ms   ({string.Join(", ", cpu[name].Select(c => c.ToString("F3", CultureInfo.InvariantCulture)))})   {median / first:F2} of {binaries[0].Name}"));
    }
}

binary = binaries[0].Path;
if (sendSeconds > 0)
{
    await Sending();
}

return 0;

async Task<double> Latency()
{
    var unlimited = new RateLimits { Global = null, PrivateChat = null, GroupChat = null };
    await using var fake = await FakeTelegramServer.StartAsync(new FakeTelegramOptions { RateLimits = unlimited, ConfigureLogging = l => l.ClearProviders() });
    using var bot = StartBot(fake, new()
    {
        ["Sender__GlobalPerSecond"] = "1000",
        ["Sender__PrivateChatPerSecond"] = "100",
        ["Sender__MaxInFlight"] = "256",
    }, out var webhook);

    // Steady state, not the start: a new leader's sender waits one window before its first call (its predecessor's
    // last calls may still count at Telegram), and the first calls pay for connections, PostgreSQL's per-connection
    // caches and the fake's own JIT. A warm-up run at the same rate goes first and is reported apart.
    await Task.Delay(TimeSpan.FromSeconds(3));
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 });
    // Ids (and chats) of their own in every run: a bot that sees an update id again stores it once and replies once.
    var firstId = 10_000_000L + (runs++ * 2_000_000L);
    var measuredFirstId = firstId + 1_000_000L;
    var warm = await Offer(fake, http, webhook, firstId, count: rate * warmupSeconds);
    Console.WriteLine(FormattableString.Invariant(
        $"warm-up: {warm.Total} updates at {warm.Offered:F0}/s, not counted; reply p50 {P(warm.EndToEnd, 50):F1} ms, p99 {P(warm.EndToEnd, 99):F1} ms"));
    var cpuBefore = (Bot: Cpu.OfProcess(bot.Id), Database: Cpu.OfPostgres(postmasterPidFile));
    var run = await Offer(fake, http, webhook, measuredFirstId, count: rate * seconds);
    var cpuBot = Cpu.OfProcess(bot.Id) - cpuBefore.Bot;
    var cpuDatabase = Cpu.OfPostgres(postmasterPidFile) - cpuBefore.Database;
    var perUpdate = (cpuBot + cpuDatabase) * 1000 / run.Replies.Count;
    Console.WriteLine(FormattableString.Invariant($"latency: {run.Total} updates at {run.Offered:F0}/s offered; {run.Acks.Count} acknowledged"));
    Console.WriteLine(FormattableString.Invariant(
        $"  CPU per handled update (reply included) {perUpdate,6:F3} ms: bot {cpuBot * 1000 / run.Replies.Count:F3} ms + PostgreSQL {cpuDatabase * 1000 / run.Replies.Count:F3} ms ({cpuBot:F2} s + {cpuDatabase:F2} s for {run.Replies.Count} replies{(postmasterPidFile.Length == 0 ? "; no --pg-pid-file: PostgreSQL not counted" : "")})"));
    Console.WriteLine(FormattableString.Invariant($"  webhook ack        p50 {P(run.Acks, 50),7:F1} ms   p99 {P(run.Acks, 99),7:F1} ms"));
    Console.WriteLine(FormattableString.Invariant($"  in -> reply sent   p50 {P(run.EndToEnd, 50),7:F1} ms   p99 {P(run.EndToEnd, 99),7:F1} ms   max {run.EndToEnd.Max(),7:F1} ms"));
    await using var database = new Npgsql.NpgsqlConnection(Environment.GetEnvironmentVariable("Database__ConnectionString"));
    await database.OpenAsync();
    await Stages(database, measuredFirstId, measuredFirstId + run.Total - 1);
    await Tail(database, run.Replies);
    return perUpdate;
}

// Posts COUNT updates at RATE per second, one per chat, and waits for every reply at the fake.
async Task<(int Total, double Offered, List<double> Acks, List<double> EndToEnd, Dictionary<long, (DateTimeOffset Posted, DateTimeOffset Replied)> Replies)> Offer(
    FakeTelegramServer fake, HttpClient http, Uri webhook, long firstId, int count)
{
    var posted = new ConcurrentDictionary<long, DateTimeOffset>();
    var acks = new ConcurrentBag<double>();
    var delivered = fake.Stats().Deliveries;
    var clock = Stopwatch.StartNew();
    var posts = new List<Task>(count);
    for (var i = 0; i < count; i++)
    {
        var due = TimeSpan.FromSeconds((double)i / rate);
        var wait = due - clock.Elapsed;
        if (wait > TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(wait);
        }

        var id = firstId + i;
        posts.Add(Task.Run(async () =>
        {
            var started = Stopwatch.GetTimestamp();
            posted[id] = DateTimeOffset.UtcNow;
            using var response = await http.SendAsync(Post(webhook, id, chat: id));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                acks.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
    }

    await Task.WhenAll(posts);
    var offered = count / clock.Elapsed.TotalSeconds;
    await fake.WaitForDeliveriesAsync((int)delivered + count, TimeSpan.FromSeconds(120));
    var replies = fake.Calls("sendMessage")
        .Select(c => (Call: c, Id: c.Body["reply_parameters"]!["message_id"]!.GetValue<long>()))
        .Where(c => c.Call.Delivered && posted.ContainsKey(c.Id))
        .ToDictionary(c => c.Id, c => (Posted: posted[c.Id], Replied: c.Call.ReceivedAt));
    var endToEnd = replies.Values.Select(r => (r.Replied - r.Posted).TotalMilliseconds).ToList();
    return (count, offered, acks.ToList(), endToEnd, replies);
}

// Where the time goes, from the measured run's rows' own timestamps (now() is a transaction's start): received to
// the handler's start, then the handler's start to the settled send.
static async Task Stages(Npgsql.NpgsqlConnection connection, long first, long last)
{
    await using var command = new Npgsql.NpgsqlCommand(
        """
        SELECT 'inbox: received -> handler' AS stage,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)) * 1000,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)) * 1000
        FROM inbox WHERE processed_at IS NOT NULL AND update_id BETWEEN $1 AND $2
        UNION ALL
        SELECT 'handler -> send settled',
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) * 1000,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) * 1000
        FROM outbox WHERE sent_at IS NOT NULL AND source_update_id BETWEEN $1 AND $2
        """, connection);
    command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { Value = first });
    command.Parameters.Add(new Npgsql.NpgsqlParameter<long> { Value = last });
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        Console.WriteLine(FormattableString.Invariant($"  {reader.GetString(0),-26} p50 {reader.GetDouble(1),7:F1} ms   p99 {reader.GetDouble(2),7:F1} ms"));
    }
}

// Where the slowest 1% of replies spent their time, on average: posted -> stored (the ingest's transaction start),
// stored -> the handler's transaction start, the handler's start -> the reply at the fake.
static async Task Tail(Npgsql.NpgsqlConnection connection, Dictionary<long, (DateTimeOffset Posted, DateTimeOffset Replied)> replies)
{
    var slowest = replies.OrderByDescending(r => r.Value.Replied - r.Value.Posted).Take(Math.Max(1, replies.Count / 100)).ToList();
    await using var command = new Npgsql.NpgsqlCommand("SELECT update_id, received_at, processed_at FROM inbox WHERE update_id = ANY($1)", connection);
    command.Parameters.Add(new Npgsql.NpgsqlParameter<long[]> { TypedValue = slowest.Select(s => s.Key).ToArray() });
    var stored = new Dictionary<long, (DateTime Received, DateTime Processed)>();
    await using (var reader = await command.ExecuteReaderAsync())
    {
        while (await reader.ReadAsync())
        {
            stored[reader.GetInt64(0)] = (reader.GetDateTime(1), reader.GetDateTime(2));
        }
    }

    double Mean(Func<(DateTimeOffset Posted, DateTimeOffset Replied), (DateTime Received, DateTime Processed), TimeSpan> part) =>
        slowest.Where(s => stored.ContainsKey(s.Key)).Average(s => part(s.Value, stored[s.Key]).TotalMilliseconds);
    Console.WriteLine(FormattableString.Invariant(
        $"  slowest 1% ({slowest.Count}), mean: posted -> stored {Mean((r, d) => d.Received - r.Posted.UtcDateTime),6:F1} ms, stored -> handler {Mean((_, d) => d.Processed - d.Received),6:F1} ms, handler -> reply {Mean((r, d) => r.Replied.UtcDateTime - d.Processed),6:F1} ms"));
}

async Task Sending()
{
    await using var fake = await FakeTelegramServer.StartAsync(new FakeTelegramOptions { ConfigureLogging = l => l.ClearProviders() });
    using var bot = StartBot(fake, new(), out var webhook);
    using var http = new HttpClient();
    // A backlog larger than 60 s of sending: 400 chats, 6 replies each.
    const int chats = 400, perChat = 6;
    // Update ids below the latency parts' (10,000,000 and up): a reused id would be a duplicate, stored once.
    await Task.WhenAll(Enumerable.Range(1, chats).Select(async chat =>
    {
        for (var n = 1; n <= perChat; n++)
        {
            using var response = await http.SendAsync(Post(webhook, 2_000_000L + n * 1000 + chat, chat: 50_000 + chat));
        }
    }));

    await Task.Delay(TimeSpan.FromSeconds(3));
    var before = fake.Stats();
    await Task.Delay(TimeSpan.FromSeconds(sendSeconds));
    var after = fake.Stats();
    var delivered = after.Deliveries - before.Deliveries;
    Console.WriteLine(FormattableString.Invariant(
        $"sending: {delivered} replies in {sendSeconds} s = {(double)delivered / sendSeconds:F2}/s against 30/s; 429s {after.TooManyRequests}, limit violations {after.RateLimitViolations}, busiest second {after.MaxDeliveryRatePerSecond}"));
}

BotProcess StartBot(FakeTelegramServer fake, Dictionary<string, string> settings, out Uri webhook)
{
    var publicPort = FreePort();
    var internalPort = FreePort();
    var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
    settings["Telegram__ApiBaseUrl"] = fake.BaseUrl;
    settings["Telegram__BotToken"] = "123456789:pipeline-benchmark-token-not-real";
    settings["Telegram__WebhookSecret"] = secret;
    settings["Hosting__PublicPort"] = publicPort.ToString(CultureInfo.InvariantCulture);
    settings["Hosting__InternalPort"] = internalPort.ToString(CultureInfo.InvariantCulture);
    settings["Hosting__BindAddress"] = "127.0.0.1";
    settings["Shutdown__DrainDelaySeconds"] = "0";
    settings["Logging__LogLevel__Default"] = "Warning";
    foreach (var (key, value) in settings)
    {
        info.Environment[key] = value;
    }

    var process = Process.Start(info)!;
    // The bot's log (warnings and above) to a file when PIPELINE_BOT_LOG names one, else nowhere.
    var log = Environment.GetEnvironmentVariable("PIPELINE_BOT_LOG") is { Length: > 0 } logPath ? TextWriter.Synchronized(new StreamWriter(logPath, append: true) { AutoFlush = true }) : null;
    process.OutputDataReceived += (_, e) => log?.WriteLine(e.Data);
    process.ErrorDataReceived += (_, e) => log?.WriteLine(e.Data);
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    using var probe = new HttpClient();
    for (var i = 0; i < 300; i++)
    {
        try
        {
            if (probe.GetAsync(new Uri($"http://127.0.0.1:{internalPort}/readyz")).Result.IsSuccessStatusCode)
            {
                break;
            }
        }
        catch (AggregateException)
        {
        }

        Thread.Sleep(50);
    }

    webhook = new Uri($"http://127.0.0.1:{publicPort}/telegram/webhook");
    return new BotProcess(process);
}

static HttpRequestMessage Post(Uri webhook, long id, long chat)
{
    var body = $$$"""{"update_id":{{{id}}},"message":{"message_id":{{{id}}},"date":1700000000,"chat":{"id":{{{chat}}},"type":"private","first_name":"L"},"from":{"id":{{{chat}}},"is_bot":false,"first_name":"L"},"text":"load"}}""";
    var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
    return request;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static double P(IEnumerable<double> values, double percentile)
{
    var sorted = values.Order().ToList();
    return sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(percentile / 100 * sorted.Count) - 1)];
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

IEnumerable<string> Args(string name) => args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1]);

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

internal sealed class BotProcess(Process process) : IDisposable
{
    public int Id => process.Id;

    public void Dispose()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }
}

/// <summary>CPU time (user + system) of processes, from /proc, in seconds.</summary>
internal static class Cpu
{
    private const double TicksPerSecond = 100; // USER_HZ, 100 on Linux

    public static double OfProcess(int pid) => Times(pid) is { } t ? (t.User + t.System) / TicksPerSecond : 0;

    /// <summary>The postmaster's own time, that of its exited children (which it reaped) and that of its live children.</summary>
    public static double OfPostgres(string pidFile)
    {
        if (pidFile.Length == 0)
        {
            return 0;
        }

        var postmaster = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        var own = Times(postmaster) ?? throw new InvalidOperationException($"no postmaster with pid {postmaster}");
        var total = own.User + own.System + own.ChildrenUser + own.ChildrenSystem;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && Times(pid) is { } t && t.Parent == postmaster)
            {
                total += t.User + t.System;
            }
        }

        return total / TicksPerSecond;
    }

    private static (int Parent, long User, long System, long ChildrenUser, long ChildrenSystem)? Times(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // gone meanwhile
        }

        // Fields after the command name (which may hold spaces) start at the third: state, ppid, ... utime is the 14th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long F(int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture);
        return ((int)F(4), F(14), F(15), F(16), F(17));
    }
}
