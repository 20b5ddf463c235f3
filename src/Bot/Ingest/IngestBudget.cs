using Microsoft.Extensions.Options;

namespace Bot.Ingest;

/// <summary>
/// The bytes of webhook bodies held at once, from the moment a request is admitted (by its Content-Length, or the
/// largest body allowed when it is chunked) until its row has committed: <see cref="IngestOptions.MaxBufferedBytes"/>.
/// A request beyond it is answered 503 with Retry-After before its body is read, and Telegram retries it, so a
/// burst of large updates waits at Telegram instead of in the bot's memory (each body is held about three times:
/// as read, as the stored string, as sent to PostgreSQL).
/// </summary>
public sealed class IngestBudget(IOptions<IngestOptions> options)
{
    private readonly long limit = options.Value.MaxBufferedBytes;
    private long held;

    public long Held => Interlocked.Read(ref held);

    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var current = Interlocked.Read(ref held);
            if (current + bytes > limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref held, current + bytes, current) == current)
            {
                return true;
            }
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref held, -bytes);
}
