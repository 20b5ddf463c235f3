using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace FakeTelegram;

/// <summary>
/// <c>GET|POST /bot{token}/{method}</c>, and <c>/bot{token}/test/{method}</c> as Telegram's test environment is
/// addressed: reads the call, lets the state decide, and answers as decided. Both paths share one state (the fake
/// is one world); a call's record says which path it came by.
/// </summary>
internal sealed class BotApiEndpoint(FakeTelegramState state, ILogger logger, CancellationToken stopping)
{
    public static void Map(IEndpointRouteBuilder routes, FakeTelegramState state, ILogger logger, CancellationToken stopping)
    {
        var endpoint = new BotApiEndpoint(state, logger, stopping);
        routes.MapMethods("/bot{token}/{method}", [HttpMethods.Get, HttpMethods.Post], http => endpoint.HandleAsync(http, testEnvironment: false));
        routes.MapMethods("/bot{token}/test/{method}", [HttpMethods.Get, HttpMethods.Post], http => endpoint.HandleAsync(http, testEnvironment: true));
    }

    private async Task HandleAsync(HttpContext http, bool testEnvironment)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        try
        {
            var token = (string)http.Request.RouteValues["token"]!;
            var method = (string)http.Request.RouteValues["method"]!;
            var (parameters, error) = await BotParameters.ReadAsync(http.Request, abort.Token);
            var decision = state.Decide(new BotCall(token, method, parameters, error, testEnvironment));
            if (decision.Poll is { } poll)
            {
                var outcome = await poll.WaitAsync(state.Time, abort.Token);
                decision = state.CompletePoll(poll, outcome);
            }

            LogCall(decision.Record!);
            if (decision.Answer is not { } answer)
            {
                // A timeout fault, or a client that left: hold the connection until the client gives up.
                await Task.Delay(Timeout.InfiniteTimeSpan, abort.Token);
                return;
            }

            if (decision.Delay > TimeSpan.Zero)
            {
                await Task.Delay(decision.Delay, state.Time, abort.Token);
            }

            var body = answer.Serialize();
            http.Response.StatusCode = answer.Status;
            http.Response.ContentType = answer.ContentType;
            http.Response.ContentLength = body.Length;
            await http.Response.Body.WriteAsync(body, abort.Token);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The client gave up or the fake is stopping: no answer, as a lost connection looks.
            http.Abort();
        }
    }

    private void LogCall(CallRecord record)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var chat = record.ChatId?.ToString(CultureInfo.InvariantCulture) ?? record.ChatUsername ?? "-";
        var outcome = record.Status is { } status
            ? status.ToString(CultureInfo.InvariantCulture) + (record.Delivered ? " delivered" : "") + (record.Injected ? " (injected)" : "")
            : "no answer" + (record.Injected ? " (injected timeout)" : "");
        Log.Call(logger, record.Method, chat, outcome);
    }
}
