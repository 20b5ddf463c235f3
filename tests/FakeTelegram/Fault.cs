using System.Globalization;

namespace FakeTelegram;

public enum FaultKind
{
    /// <summary>Answer with a status and description instead of doing the call.</summary>
    Status,

    /// <summary>Do the call, then answer only after a delay.</summary>
    Slow,

    /// <summary>Never answer: hold the request until the client gives up.</summary>
    Timeout,
}

/// <summary>
/// What the next <see cref="Count"/> matching calls get instead of the normal answer. Build one with the
/// factory methods and narrow it with <c>with { Method = "sendMessage", ChatId = 42, Count = 3 }</c>.
/// </summary>
public sealed record Fault
{
    private readonly int count = 1;

    private Fault(FaultKind kind) => Kind = kind;

    public FaultKind Kind { get; }

    /// <summary>Only calls of this method (case-insensitive, as Telegram); null matches every method.</summary>
    public string? Method { get; init; }

    /// <summary>Only calls whose <c>chat_id</c> is this; null matches every call.</summary>
    public long? ChatId { get; init; }

    public int Count
    {
        get => count;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            count = value;
        }
    }

    /// <summary>HTTP status and <c>error_code</c> for <see cref="FaultKind.Status"/>.</summary>
    public int StatusCode { get; private init; }

    public string? Description { get; private init; }

    public int? RetryAfter { get; private init; }

    /// <summary>A body that is not Telegram's JSON, as the front proxy sends with a 502.</summary>
    public string? RawBody { get; private init; }

    public TimeSpan Delay { get; private init; }

    /// <summary>
    /// For <see cref="FaultKind.Timeout"/>: whether the call took effect before the answer was lost. A client
    /// cannot know, so a sender must survive both.
    /// </summary>
    public bool Delivered { get; private init; }

    /// <summary>Any error answer; the description defaults to Telegram's text for the status.</summary>
    public static Fault WithStatus(int statusCode, string? description = null, int? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        if (statusCode == 429)
        {
            return TooManyRequests(retryAfter ?? 1);
        }

        if (statusCode == 502 && description is null)
        {
            return BadGateway();
        }

        return new Fault(FaultKind.Status)
        {
            StatusCode = statusCode,
            Description = description ?? DefaultDescription(statusCode),
            RetryAfter = retryAfter,
        };
    }

    public static Fault TooManyRequests(int retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retryAfter, 1);
        return new Fault(FaultKind.Status)
        {
            StatusCode = 429,
            Description = "Too Many Requests: retry after " + retryAfter.ToString(CultureInfo.InvariantCulture),
            RetryAfter = retryAfter,
        };
    }

    public static Fault InternalServerError() => WithStatus(500);

    /// <summary>A 502 with nginx's HTML page, as Telegram's front end answers when the backend is away.</summary>
    public static Fault BadGateway() => new(FaultKind.Status)
    {
        StatusCode = 502,
        Description = "Bad Gateway",
        RawBody = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n",
    };

    /// <summary>A 400; <c>Bad Request: </c> is put in front of <paramref name="description"/> unless there.</summary>
    public static Fault BadRequest(string description) => WithStatus(400, Prefixed("Bad Request: ", description));

    public static Fault Forbidden(string description) => WithStatus(403, Prefixed("Forbidden: ", description));

    public static Fault BlockedByUser() => Forbidden("bot was blocked by the user");

    public static Fault Slow(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new Fault(FaultKind.Slow) { Delay = delay };
    }

    public static Fault Timeout(bool delivered = false) => new(FaultKind.Timeout) { Delivered = delivered };

    internal Fault WithRawBody(string body) => this with { RawBody = body };

    internal static string DefaultDescription(int statusCode) => statusCode switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden: bot was blocked by the user",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };

    private static string Prefixed(string prefix, string description) =>
        description.StartsWith(prefix, StringComparison.Ordinal) ? description : prefix + description;
}
