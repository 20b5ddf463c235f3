using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Admin;

/// <summary>
/// Reads an admin route's JSON body with its source-generated type, so that a value of the wrong type or format is a
/// 400 that names the field (<c>$.scheduledAt</c>), not the bare 400 of the minimal API's own binding. A body over the
/// route's limit is still a 413; a body that is not JSON a 415. Routes that read their body this way declare it with
/// <c>Accepts&lt;T&gt;("application/json")</c> for the OpenAPI document.
/// </summary>
public static class AdminBody
{
    /// <summary>The body, or the problem to answer with. An empty body is null when <paramref name="optional"/>, else a 400.</summary>
    public static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(
        HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken, bool optional = false)
        where T : class
    {
        var empty = request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding"));
        if (empty)
        {
            return optional ? (null, null) : (null, Invalid("a JSON body is required", "Missing body"));
        }

        if (!request.HasJsonContentType())
        {
            return (null, TypedResults.Problem("Content-Type must be application/json", statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type"));
        }

        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, type, cancellationToken);
            return value is null ? (null, Invalid("the body must be a JSON object, not null", "Invalid body")) : (value, null);
        }
        catch (JsonException exception)
        {
            var field = exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            return (null, field is null
                ? Invalid("the body is not valid JSON for this route", "Invalid body")
                : Invalid($"{field} has the wrong type or format", "Invalid body"));
        }
        catch (BadHttpRequestException exception)
        {
            // Over the body limit (413), or the client stopped sending.
            return (null, TypedResults.Problem(exception.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the body is too large for this route" : "the body could not be read",
                statusCode: exception.StatusCode, title: "Invalid body"));
        }
    }

    /// <summary>A 409: the request is right, but what it acts on is not in the state it needs (already decided, running).</summary>
    public static ProblemHttpResult Conflict(string detail, string title) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: title);

    /// <summary>A 400 whose detail says which field is wrong and how.</summary>
    public static ProblemHttpResult Invalid(string detail, string title = "Invalid request") =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: title);
}
