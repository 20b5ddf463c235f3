using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>An answer in Telegram's envelope: <c>{"ok":true,"result":...}</c> or <c>{"ok":false,"error_code":N,...}</c>.</summary>
internal sealed class ApiResult
{
    private ApiResult(int status, JsonNode? result, string? description, int? retryAfter, string? rawBody)
    {
        Status = status;
        Result = result;
        Description = description;
        RetryAfter = retryAfter;
        RawBody = rawBody;
    }

    public static ApiResult Unauthorized { get; } = Error(401, "Unauthorized");

    public static ApiResult MethodNotFound { get; } = Error(404, "Not Found: method not found");

    public int Status { get; }

    public bool IsOk => Status == 200;

    public JsonNode? Result { get; }

    public string? Description { get; }

    public int? RetryAfter { get; }

    /// <summary>Not Telegram's JSON: what a proxy in front of it answers.</summary>
    public string? RawBody { get; }

    /// <summary>Refused by the rate limiter.</summary>
    public bool RateLimited { get; private init; }

    public static ApiResult Ok(JsonNode? result, string? description = null) => new(200, result, description, null, null);

    public static ApiResult Error(int status, string description, int? retryAfter = null) =>
        new(status, null, description, retryAfter, null);

    public static ApiResult BadRequest(string description) => Error(400, "Bad Request: " + description);

    public static ApiResult Forbidden(string description) => Error(403, "Forbidden: " + description);

    public static ApiResult TooManyRequests(int retryAfter) =>
        new(429, null, "Too Many Requests: retry after " + retryAfter.ToString(CultureInfo.InvariantCulture), retryAfter, null)
        {
            RateLimited = true,
        };

    public static ApiResult From(Fault fault) =>
        new(fault.StatusCode, null, fault.Description, fault.RetryAfter, fault.RawBody);

    public string ContentType => RawBody is null ? "application/json" : "text/html";

    /// <summary>The body bytes; built outside the state's lock.</summary>
    public byte[] Serialize()
    {
        if (RawBody is not null)
        {
            return Encoding.UTF8.GetBytes(RawBody);
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (IsOk)
            {
                writer.WriteBoolean("ok", true);
                writer.WritePropertyName("result");
                if (Result is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    Result.WriteTo(writer);
                }

                if (Description is not null)
                {
                    writer.WriteString("description", Description);
                }
            }
            else
            {
                writer.WriteBoolean("ok", false);
                writer.WriteNumber("error_code", Status);
                writer.WriteString("description", Description);
                if (RetryAfter is { } seconds)
                {
                    writer.WriteStartObject("parameters");
                    writer.WriteNumber("retry_after", seconds);
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
