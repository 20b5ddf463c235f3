using System.Collections.Concurrent;
using System.Net;

namespace Bot.Tests.Integration.Telemetry;

/// <summary>
/// A stand-in OpenTelemetry collector: accepts OTLP/HTTP protobuf posts on /v1/traces, /v1/metrics and
/// /v1/logs and keeps every body, so tests can look into what the bot exported.
/// </summary>
public sealed class OtlpReceiver : Bot.Tests.Integration.Infrastructure.LoopbackServer
{
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Bodies by path (/v1/traces, /v1/metrics, /v1/logs), with their content types.</summary>
    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Posts { get; } = new();

    public IEnumerable<byte[]> Bodies(string path) => Posts.Where(p => p.Path == path).Select(p => p.Body);

    public async Task<T> WaitForAsync<T>(Func<T?> probe, TimeSpan timeout, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no {what} within {timeout}; {Posts.Count} posts: " +
            string.Join(", ", Posts.GroupBy(p => p.Path).Select(g => $"{g.Key} x{g.Count()}")));
    }

    protected override async Task ServeAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        Posts.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
        // An empty Export*ServiceResponse is a valid (zero-length) protobuf message.
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-protobuf";
        context.Response.Close();
    }
}

/// <summary>Just enough protobuf to read spans out of an ExportTraceServiceRequest (opentelemetry-proto).</summary>
public static class OtlpSpans
{
    public sealed record Span(string TraceId, string SpanId, string ParentSpanId, string Name);

    // ExportTraceServiceRequest.resource_spans = 1 → ResourceSpans.scope_spans = 2 → ScopeSpans.spans = 2 →
    // Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5.
    public static List<Span> Read(byte[] request)
    {
        var spans = new List<Span>();
        foreach (var resourceSpans in Fields(request, 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            {
                foreach (var span in Fields(scopeSpans, 2))
                {
                    spans.Add(new Span(
                        Hex(Fields(span, 1).FirstOrDefault()), Hex(Fields(span, 2).FirstOrDefault()),
                        Hex(Fields(span, 4).FirstOrDefault()), System.Text.Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault() ?? [])));
                }
            }
        }

        return spans;
    }

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

    /// <summary>The length-delimited fields numbered <paramref name="number"/> of a message.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var i = 0;
        while (i < message.Length)
        {
            var key = Varint(message, ref i);
            var wire = (int)(key & 7);
            var field = (int)(key >> 3);
            switch (wire)
            {
                case 0:
                    Varint(message, ref i);
                    break;
                case 1:
                    i += 8;
                    break;
                case 5:
                    i += 4;
                    break;
                case 2:
                    var length = (int)Varint(message, ref i);
                    if (field == number)
                    {
                        found.Add(message[i..(i + length)]);
                    }

                    i += length;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire}");
            }
        }

        return found;
    }

    private static ulong Varint(byte[] data, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
