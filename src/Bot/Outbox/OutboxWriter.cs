using Npgsql;
using Telegram.Bot.Requests.Abstractions;

namespace Bot.Outbox;

public enum OutboxPriority : short
{
    Interactive = 0,
    Bulk = 1,
}

/// <summary>Queues outgoing calls inside the caller's transaction, so they exist only if its state change commits.</summary>
public sealed class OutboxWriter(NpgsqlConnection connection, NpgsqlTransaction transaction, long? sourceUpdateId, string? traceContext)
{
    public int Queued { get; private set; }

    /// <summary>Queues the call; returns its outbox row id (whose result column will hold Telegram's answer).</summary>
    public async Task<long> EnqueueAsync<TResponse>(
        IRequest<TResponse> request, long chatId, OutboxPriority priority = OutboxPriority.Interactive, CancellationToken cancellationToken = default)
    {
        var (method, payload) = OutboxCodec.Encode(request);
        await using var command = new NpgsqlCommand(
            "INSERT INTO outbox (chat_id, method, payload, priority, source_update_id, trace_context) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = method });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload });
        command.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)priority });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = sourceUpdateId });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = traceContext });
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        Queued++;
        return id;
    }
}
