// Start-up benchmark: process start to the first 200 from /readyz, median of N runs, for each command given
// (the commands' runs interleaved).
//   dotnet run -c Release --project tests/Load/Startup -- --runs 10 "aot=artifacts/publish/Bot" "jit=dotnet src/Bot/bin/Release/net10.0/Bot.dll"
// The bot's settings (database, token, secret) come from the environment; ports are chosen here.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

var runs = 10;
var commands = new List<(string Name, string[] Command)>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs")
    {
        runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
    }
    else
    {
        var (name, command) = (args[i][..args[i].IndexOf('=', StringComparison.Ordinal)], args[i][(args[i].IndexOf('=', StringComparison.Ordinal) + 1)..]);
        commands.Add((name, command.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
    }
}

if (commands.Count == 0)
{
    Console.Error.WriteLine("usage: Startup [--runs N] name=command ...");
    return 2;
}

// Runs are interleaved (one of each command, then the next round), so that a machine that gets busier or quieter
// during the sitting weighs on every command alike; the first round warms the page cache and the database.
var samples = commands.ToDictionary(c => c.Name, _ => new List<double>());
for (var run = 0; run < runs + 1; run++)
{
    foreach (var (name, command) in commands)
    {
        var ms = await MeasureAsync(command);
        if (run > 0)
        {
            samples[name].Add(ms);
        }
    }
}

var medians = new Dictionary<string, double>();
foreach (var (name, _) in commands)
{
    var sorted = samples[name].Order().ToList();
    var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    medians[name] = median;
    Console.WriteLine(FormattableString.Invariant(
        $"{name,-6} median {median,7:F1} ms   min {sorted[0],7:F1}   max {sorted[^1],7:F1}   runs {sorted.Count}"));
}

if (medians.Count == 2)
{
    var (a, b) = (medians.ElementAt(0), medians.ElementAt(1));
    Console.WriteLine(FormattableString.Invariant($"ratio {a.Key}/{b.Key} = {a.Value / b.Value:F3} (1/{b.Value / a.Value:F1})"));
}

return 0;

static async Task<double> MeasureAsync(string[] command)
{
    var publicPort = FreePort();
    var internalPort = FreePort();
    var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var arg in command.Skip(1))
    {
        info.ArgumentList.Add(arg);
    }

    info.Environment["Hosting__PublicPort"] = publicPort.ToString(CultureInfo.InvariantCulture);
    info.Environment["Hosting__InternalPort"] = internalPort.ToString(CultureInfo.InvariantCulture);
    info.Environment["Hosting__BindAddress"] = "127.0.0.1";
    var request = Encoding.ASCII.GetBytes("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    var buffer = new byte[64];

    var clock = Stopwatch.StartNew();
    using var process = Process.Start(info)!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    try
    {
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{string.Join(' ', command)} exited with {process.ExitCode}");
            }

            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.NoDelay = true;
                await socket.ConnectAsync(IPAddress.Loopback, internalPort);
                await socket.SendAsync(request);
                var read = await socket.ReceiveAsync(buffer);
                if (read >= 12 && Encoding.ASCII.GetString(buffer, 9, 3) == "200")
                {
                    return clock.Elapsed.TotalMilliseconds;
                }
            }
            catch (SocketException)
            {
            }

            await Task.Delay(1);
        }

        throw new TimeoutException("not ready in 30 s");
    }
    finally
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        await Task.Delay(100);
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
