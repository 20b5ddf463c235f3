using System.Runtime.InteropServices;
using FakeTelegram;

var (options, error) = CommandLine.Parse(args);
if (options is null)
{
    await Console.Error.WriteLineAsync($"FakeTelegram: {error}\n{CommandLine.Usage}");
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

FakeTelegramServer server;
try
{
    server = await FakeTelegramServer.StartAsync(options);
}
catch (IOException e)
{
    await Console.Error.WriteLineAsync($"FakeTelegram: cannot listen on {options.ListenUrl}: {e.Message}");
    return 1;
}

await using (server)
{
    // The one start line, which scripts wait for; written even with --quiet.
    Console.WriteLine($"FakeTelegram listening on {server.BaseUrl}");
    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
