namespace Bot.Telemetry;

/// <summary>
/// Counts every Bot API call on the wire by method and HTTP status, whichever client makes it; sits inside
/// the resilience pipeline, so a retried read counts once per attempt. The method is the URL's last segment,
/// which keeps the token (the segment before it) out of the labels.
/// </summary>
public sealed class TelegramApiMetricsHandler(BotMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var method = MethodOf(request.RequestUri);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            metrics.ApiCall(method, (int)response.StatusCode, null);
            return response;
        }
        catch (Exception exception)
        {
            metrics.ApiCall(method, null, exception is OperationCanceledException ? "timeout" : exception.GetType().Name);
            throw;
        }
    }

    /// <summary>"sendMessage" from ".../bot&lt;token&gt;/sendMessage"; anything that is not a plain method name is "other".</summary>
    public static string MethodOf(Uri? uri)
    {
        var path = uri?.AbsolutePath ?? "";
        var method = path[(path.LastIndexOf('/') + 1)..];
        return method.Length is > 0 and <= 64 && method.All(char.IsAsciiLetter) ? method : "other";
    }
}
