using System.Threading.Channels;
using Bot.Ingest;
using Microsoft.Extensions.Options;

namespace Bot.Ingest;

/// <summary>
/// Group commit for the ingest: concurrent requests queue their update here and wait; a loop takes whatever
/// has gathered (up to a batch) and writes it in one insert, so that one commit (one WAL flush) acknowledges
/// many updates. Several inserts may be in flight at once; while one waits for its commit the next batch
/// gathers. A request is answered only when its own batch has committed, or failed.
/// </summary>
public sealed partial class InboxWriter : IAsyncDisposable
{
    private readonly IInboxStore store;
    private readonly IngestOptions options;
    private readonly ILogger<InboxWriter> logger;
    private readonly Channel<Pending> queue;
    private readonly SemaphoreSlim flushSlots;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private int inFlight;

    public InboxWriter(IInboxStore store, IOptions<IngestOptions> options, ILogger<InboxWriter> logger)
    {
        this.store = store;
        this.options = options.Value;
        this.logger = logger;
        queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(this.options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        flushSlots = new SemaphoreSlim(this.options.MaxConcurrentFlushes, this.options.MaxConcurrentFlushes);
        loop = Task.Run(RunAsync);
    }

    /// <summary>Updates waiting for or inside an insert.</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>Completes when the record is durable (stored now or already there); throws when it is not.</summary>
    public async Task<InboxWriteResult> WriteAsync(InboxRecord record, CancellationToken cancellationToken)
    {
        var pending = new Pending(record);
        Interlocked.Increment(ref inFlight);
        try
        {
            await queue.Writer.WriteAsync(pending, cancellationToken);
            return await pending.Completion.Task.WaitAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new InboxUnavailableException("the inbox writer is shutting down");
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    private async Task RunAsync()
    {
        var reader = queue.Reader;
        var flushes = new List<Task>();
        try
        {
            while (true)
            {
                // Take a slot first: while every slot is busy the queue keeps gathering into a larger batch.
                await flushSlots.WaitAsync(CancellationToken.None);
                if (!await reader.WaitToReadAsync(CancellationToken.None))
                {
                    flushSlots.Release();
                    break;
                }

                var batch = new List<Pending>(Math.Min(options.MaxBatchSize, reader.Count));
                while (batch.Count < options.MaxBatchSize && reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                flushes.RemoveAll(t => t.IsCompleted);
                flushes.Add(FlushAsync(batch));
            }
        }
        finally
        {
            await Task.WhenAll(flushes);
        }
    }

    private async Task FlushAsync(List<Pending> batch)
    {
        try
        {
            await InsertAsync(batch);
        }
        catch (Exception exception) when (store.IsDataError(exception) && batch.Count > 1)
        {
            // One refused row must not fail the updates it happened to share a batch with.
            foreach (var pending in batch)
            {
                await InsertOrFailAsync([pending]);
            }
        }
        catch (Exception exception)
        {
            Fail(batch, exception);
        }
        finally
        {
            flushSlots.Release();
        }
    }

    private async Task InsertOrFailAsync(List<Pending> batch)
    {
        try
        {
            await InsertAsync(batch);
        }
        catch (Exception exception)
        {
            Fail(batch, exception);
        }
    }

    private async Task InsertAsync(List<Pending> batch)
    {
        // One row per id, in id order: concurrent inserts then take index locks in the same order and
        // cannot deadlock, and a retry that arrives beside its original is answered with it.
        var rows = batch.Select(p => p.Record).DistinctBy(r => r.UpdateId).OrderBy(r => r.UpdateId).ToList();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.CommitTimeoutSeconds));
        var inserted = await store.InsertAsync(rows, timeout.Token);

        var claimed = new HashSet<long>();
        foreach (var pending in batch)
        {
            // The first request for a new id stored it; any other request for it is a duplicate.
            var stored = inserted.Contains(pending.Record.UpdateId) && claimed.Add(pending.Record.UpdateId);
            pending.Completion.TrySetResult(stored ? InboxWriteResult.Stored : InboxWriteResult.Duplicate);
        }
    }

    private void Fail(List<Pending> batch, Exception exception)
    {
        LogFlushFailed(logger, batch.Count, exception.GetType().Name, exception.Message);
        var failure = new InboxUnavailableException("the database did not take the update", exception);
        foreach (var pending in batch)
        {
            pending.Completion.TrySetException(failure);
        }
    }

    /// <summary>Stops taking updates and waits for what was queued to be written or failed.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        var drained = await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(options.CommitTimeoutSeconds * 2)));
        if (drained != loop)
        {
            await stopping.CancelAsync();
            await loop;
        }

        stopping.Dispose();
        flushSlots.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox insert of {Count} updates failed: {ErrorType}: {Error}")]
    private static partial void LogFlushFailed(ILogger logger, int count, string errorType, string error);

    private sealed class Pending(InboxRecord record)
    {
        public InboxRecord Record { get; } = record;

        public TaskCompletionSource<InboxWriteResult> Completion { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The inbox cannot make the update durable now; the sender should retry (HTTP 503).</summary>
public sealed class InboxUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
