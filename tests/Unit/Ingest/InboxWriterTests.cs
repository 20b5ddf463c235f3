using System.Collections.Concurrent;
using Bot.Ingest;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Ingest;

public sealed class InboxWriterTests
{
    [Fact]
    public async Task Concurrent_writes_are_committed_together_in_few_inserts()
    {
        var store = new FakeStore { Delay = TimeSpan.FromMilliseconds(20) };
        await using var writer = Writer(store, flushes: 1);

        var results = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => writer.WriteAsync(Record(i), default)));

        Assert.All(results, r => Assert.Equal(InboxWriteResult.Stored, r));
        Assert.Equal(200, store.Rows.Count);
        Assert.True(store.Batches.Count < 20, $"{store.Batches.Count} inserts for 200 concurrent writes");
    }

    [Fact]
    public async Task A_batch_is_written_in_id_order_with_each_id_once()
    {
        var store = new FakeStore { Delay = TimeSpan.FromMilliseconds(50) };
        await using var writer = Writer(store, flushes: 1);
        var blocker = writer.WriteAsync(Record(1), default);
        await Task.Delay(10);

        var writes = new[] { 9, 3, 9, 5, 3 }.Select(i => writer.WriteAsync(Record(i), default)).ToList();
        var results = await Task.WhenAll(writes);
        await blocker;

        var batch = Assert.Single(store.Batches, b => b.Contains(9));
        Assert.Equal([3, 5, 9], batch);
        Assert.Equal(3, results.Count(r => r == InboxWriteResult.Stored));
        Assert.Equal(2, results.Count(r => r == InboxWriteResult.Duplicate));
    }

    [Fact]
    public async Task An_id_already_in_the_store_is_a_duplicate()
    {
        var store = new FakeStore();
        await using var writer = Writer(store);

        Assert.Equal(InboxWriteResult.Stored, await writer.WriteAsync(Record(4), default));
        Assert.Equal(InboxWriteResult.Duplicate, await writer.WriteAsync(Record(4), default));
    }

    [Fact]
    public async Task When_the_store_fails_every_waiting_write_fails_and_none_is_acknowledged()
    {
        var store = new FakeStore { Failure = new TimeoutException("database gone"), Delay = TimeSpan.FromMilliseconds(20) };
        await using var writer = Writer(store);

        var writes = Enumerable.Range(1, 20).Select(i => writer.WriteAsync(Record(i), default)).ToList();

        foreach (var write in writes)
        {
            await Assert.ThrowsAsync<InboxUnavailableException>(() => write);
        }

        Assert.Empty(store.Rows);
    }

    [Fact]
    public async Task A_row_the_database_refuses_fails_alone_and_its_batch_mates_are_stored()
    {
        var store = new FakeStore { Poison = 13, Delay = TimeSpan.FromMilliseconds(20) };
        await using var writer = Writer(store, flushes: 1);
        var first = writer.WriteAsync(Record(1), default);
        await Task.Delay(5);

        var writes = Enumerable.Range(10, 6).ToDictionary(i => i, i => writer.WriteAsync(Record(i), default));
        await first;

        await Assert.ThrowsAsync<InboxUnavailableException>(() => writes[13]);
        foreach (var (id, write) in writes.Where(w => w.Key != 13))
        {
            Assert.Equal(InboxWriteResult.Stored, await write);
        }

        Assert.DoesNotContain(13L, store.Rows.Keys);
    }

    [Fact]
    public async Task Disposing_writes_what_was_queued_before_it_returns()
    {
        var store = new FakeStore { Delay = TimeSpan.FromMilliseconds(30) };
        var writer = Writer(store, flushes: 1);
        var writes = Enumerable.Range(1, 50).Select(i => writer.WriteAsync(Record(i), default)).ToList();

        await writer.DisposeAsync();

        Assert.Equal(50, store.Rows.Count);
        Assert.All(await Task.WhenAll(writes), r => Assert.Equal(InboxWriteResult.Stored, r));
        await Assert.ThrowsAsync<InboxUnavailableException>(() => writer.WriteAsync(Record(99), default));
    }

    private static InboxWriter Writer(IInboxStore store, int flushes = 2) =>
        new(store, Options.Create(new IngestOptions { MaxConcurrentFlushes = flushes, MaxBatchSize = 500, CommitTimeoutSeconds = 5 }),
            NullLogger<InboxWriter>.Instance);

    private static InboxRecord Record(long id) => new(id, id % 3, "message", "{}", null);

    private sealed class FakeStore : IInboxStore
    {
        public ConcurrentDictionary<long, InboxRecord> Rows { get; } = new();

        public ConcurrentQueue<long[]> Batches { get; } = new();

        public TimeSpan Delay { get; init; }

        public Exception? Failure { get; init; }

        public long? Poison { get; init; }

        public async Task<IReadOnlySet<long>> InsertAsync(IReadOnlyList<InboxRecord> records, CancellationToken cancellationToken)
        {
            Batches.Enqueue(records.Select(r => r.UpdateId).ToArray());
            await Task.Delay(Delay, cancellationToken);
            if (Failure is not null)
            {
                throw Failure;
            }

            if (records.Any(r => r.UpdateId == Poison))
            {
                throw new FormatException("refused");
            }

            return records.Where(r => Rows.TryAdd(r.UpdateId, r)).Select(r => r.UpdateId).ToHashSet();
        }

        public bool IsDataError(Exception exception) => exception is FormatException;
    }
}
