using Bot.Storage;
using Npgsql;
using Telegram.Bot.Requests;
using Telegram.Bot.Requests.Abstractions;

namespace Bot.Outbox;

public enum OutboxPriority : short
{
    Interactive = 0,
    Bulk = 1,
}

/// <summary>
/// Queues outgoing calls inside the caller's transaction, so they exist only if its state change commits.
/// <see cref="Queue"/> holds rows back and writes them with the transaction's closing statements
/// (<see cref="TakeBuffered"/>), so a handler's replies cost no round trip of their own; <see cref="EnqueueAsync"/>
/// writes at once for a caller that needs the row's id. Either way rows keep the order they were queued in.
/// </summary>
public sealed class OutboxWriter(NpgsqlConnection connection, NpgsqlTransaction transaction, long? sourceUpdateId)
{
    private const string InsertMany =
        """
        INSERT INTO outbox (chat_id, method, payload, priority, paid, source_update_id, trace_context)
        SELECT r.chat_id, r.method, r.payload, r.priority, r.paid, $6, $7
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::smallint[], $5::boolean[]) WITH ORDINALITY AS r(chat_id, method, payload, priority, paid, n)
        ORDER BY r.n
        """;

    private const string InsertOne =
        "INSERT INTO outbox (chat_id, method, payload, priority, paid, source_update_id, trace_context) VALUES ($1, $2, $3, $4, $5, $6, $7)";

    private readonly List<(long ChatId, string Method, string Payload, short Priority, bool Paid)> buffered = [];

    public int Queued { get; private set; }

    /// <summary>The trace context the rows carry (the handler span's), so each send continues the update's trace.</summary>
    public string? TraceContext { get; set; }

    /// <summary>Queues the call; it is written by the statement <see cref="TakeBuffered"/> hands to the committer.</summary>
    public void Queue<TResponse>(IRequest<TResponse> request, long chatId, OutboxPriority priority = OutboxPriority.Interactive)
    {
        var (method, payload) = OutboxCodec.Encode(request);
        buffered.Add((chatId, method, payload, (short)priority, IsPaid(request)));
        Queued++;
    }

    /// <summary>Queues the call now; returns its outbox row id (whose result column will hold Telegram's answer).</summary>
    public async Task<long> EnqueueAsync<TResponse>(
        IRequest<TResponse> request, long chatId, OutboxPriority priority = OutboxPriority.Interactive, CancellationToken cancellationToken = default)
    {
        var (method, payload) = OutboxCodec.Encode(request);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // Rows queued earlier go first, in the same round trip, so that ids follow the order of queueing.
        if (TakeBuffered() is { } earlier)
        {
            batch.BatchCommands.Add(earlier);
        }

        batch.BatchCommands.Add(Insert(chatId, method, payload, (short)priority, IsPaid(request), returning: true));
        var id = (long)(await batch.ExecuteScalarAsync(cancellationToken))!;
        Queued++;
        return id;
    }

    /// <summary>Writes the rows held back by <see cref="Queue"/> now, for a caller that commits without a closing batch of its own.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (TakeBuffered() is { } rows)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(rows);
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The statement that writes the rows held back by <see cref="Queue"/> (null when there are none), for the
    /// caller to run in its transaction, typically in one batch with its completion; the buffer is emptied.
    /// </summary>
    public NpgsqlBatchCommand? TakeBuffered()
    {
        if (buffered.Count == 0)
        {
            return null;
        }

        NpgsqlBatchCommand insert;
        if (buffered.Count == 1)
        {
            // The usual case, one reply: a plain insert plans and runs in half the time of the unnest.
            var row = buffered[0];
            insert = Insert(row.ChatId, row.Method, row.Payload, row.Priority, row.Paid, returning: false);
        }
        else
        {
            insert = new NpgsqlBatchCommand(InsertMany);
            insert.Parameters.Add(Sql.Arg<long[]>(buffered.Select(r => r.ChatId).ToArray()));
            insert.Parameters.Add(Sql.Arg<string[]>(buffered.Select(r => r.Method).ToArray()));
            insert.Parameters.Add(Sql.Arg<string[]>(buffered.Select(r => r.Payload).ToArray()));
            insert.Parameters.Add(Sql.Arg<short[]>(buffered.Select(r => r.Priority).ToArray()));
            insert.Parameters.Add(Sql.Arg<bool[]>(buffered.Select(r => r.Paid).ToArray()));
            insert.Parameters.Add(Sql.Arg<long?>(sourceUpdateId));
            insert.Parameters.Add(Sql.Arg<string?>(TraceContext));
        }

        buffered.Clear();
        return insert;
    }

    /// <summary>
    /// Whether the call asks for Telegram's paid limit (<c>allow_paid_broadcast</c>): the outbox row's <c>paid</c>
    /// column, by which the sender counts it against the paid window instead of the 30/s one. For code that inserts
    /// outbox rows in its own SQL (a broadcast's chunk), so that its rows are flagged the same way. Only the methods
    /// the outbox takes that have the parameter: sendMessage and copyMessage (copyMessages has none, so an album
    /// copy is never paid).
    /// </summary>
    public static bool IsPaid<TResponse>(IRequest<TResponse> request) => request switch
    {
        SendMessageRequest send => send.AllowPaidBroadcast,
        CopyMessageRequest copy => copy.AllowPaidBroadcast,
        _ => false,
    };

    private NpgsqlBatchCommand Insert(long chatId, string method, string payload, short priority, bool paid, bool returning)
    {
        var insert = new NpgsqlBatchCommand(returning ? InsertOne + " RETURNING id" : InsertOne);
        insert.Parameters.Add(Sql.Arg<long>(chatId));
        insert.Parameters.Add(Sql.Arg<string>(method));
        insert.Parameters.Add(Sql.Arg<string>(payload));
        insert.Parameters.Add(Sql.Arg<short>(priority));
        insert.Parameters.Add(Sql.Arg<bool>(paid));
        insert.Parameters.Add(Sql.Arg<long?>(sourceUpdateId));
        insert.Parameters.Add(Sql.Arg<string?>(TraceContext));
        return insert;
    }
}
