using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FakeTelegram;

/// <summary>
/// A call's parameters as one JSON object. Telegram takes them from the query string, a JSON body or form
/// fields alike, and reads "5" and 5 the same; in forms, objects and arrays arrive as JSON text.
/// </summary>
internal sealed class BotParameters
{
    private readonly JsonObject values;

    public BotParameters(JsonObject values)
    {
        this.values = values;
        Json = values.ToJsonString();
    }

    public static BotParameters Empty { get; } = new([]);

    /// <summary>Serialized once, on the request's thread, so that records never share a mutable node.</summary>
    public string Json { get; }

    public JsonNode? this[string name] => values[name];

    /// <summary>Reads query and body; the error is Telegram's description when the body cannot be read.</summary>
    public static async Task<(BotParameters Parameters, string? Error)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var values = new JsonObject();
        foreach (var (name, value) in request.Query)
        {
            values[name] = value.ToString();
        }

        try
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(cancellationToken);
                foreach (var (name, value) in form)
                {
                    values[name] = value.ToString();
                }
            }
            else if (request.HasJsonContentType())
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body, cancellationToken);
                if (body.Length > 0)
                {
                    if (JsonNode.Parse(body.ToArray()) is not JsonObject parsed)
                    {
                        return (new BotParameters(values), "Bad Request: can't parse JSON object");
                    }

                    foreach (var name in parsed.Select(p => p.Key).ToList())
                    {
                        var value = parsed[name];
                        parsed.Remove(name);
                        values[name] = value;
                    }
                }
            }
        }
        catch (JsonException)
        {
            return (new BotParameters(values), "Bad Request: can't parse JSON object");
        }
        catch (InvalidDataException)
        {
            return (new BotParameters(values), "Bad Request: can't parse request");
        }

        return (new BotParameters(values), null);
    }

    public string? String(string name) => values[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => other.ToJsonString(),
    };

    public long? Long(string name) => values[name] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var number) => number,
        JsonValue v when v.GetValueKind() == JsonValueKind.String
            && long.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    public int? Int(string name) => Long(name) is { } value && value is >= int.MinValue and <= int.MaxValue ? (int)value : null;

    public bool Bool(string name) => values[name] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => string.Equals(v.GetValue<string>(), "true", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>An object or array parameter, given as JSON or as JSON text (forms); null when absent or malformed.</summary>
    public JsonNode? Structured(string name)
    {
        switch (values[name])
        {
            case JsonObject or JsonArray:
                return values[name];
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                try
                {
                    return JsonNode.Parse(v.GetValue<string>()) is { } node and (JsonObject or JsonArray) ? node : null;
                }
                catch (JsonException)
                {
                    return null;
                }

            default:
                return null;
        }
    }
}
