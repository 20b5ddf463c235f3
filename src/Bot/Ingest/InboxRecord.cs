namespace Bot.Ingest;

/// <summary>An update as the ingest hands it to the inbox: its id, ordering key, kind and the raw JSON.</summary>
public sealed record InboxRecord(long UpdateId, long? ChatId, string Kind, string Payload, string? TraceContext);

public enum InboxWriteResult
{
    Stored,
    Duplicate,
}

/// <summary>Where batches of updates are made durable.</summary>
public interface IInboxStore
{
    /// <summary>Inserts the records in one statement and returns the ids that were new.</summary>
    Task<IReadOnlySet<long>> InsertAsync(IReadOnlyList<InboxRecord> records, CancellationToken cancellationToken);

    /// <summary>Whether a failed insert was refused for its data (so that one row can fail alone).</summary>
    bool IsDataError(Exception exception);
}
