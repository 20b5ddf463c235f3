using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Storage;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    [Required(ErrorMessage = "Database:ConnectionString is missing (set Database__ConnectionString or the secret file Database__ConnectionString)")]
    public string? ConnectionString { get; set; }

    /// <summary>Kept apart so that the connection string can live in a ConfigMap and only this in a Secret.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Where reads that tolerate replication lag go (<see cref="ReadReplica"/>): a standby (CloudNativePG's
    /// <c>&lt;cluster&gt;-ro</c> service) or a multi-host string with <c>Target Session Attributes=prefer-standby</c>.
    /// Unset: the primary serves them. Database:Password applies to it too.
    /// </summary>
    public string? ReadConnectionString { get; set; }

    /// <summary>How long lag-tolerant reads stay on the primary after the standby did not answer.</summary>
    [Range(1, 3600, ErrorMessage = "Database:ReadRetrySeconds must be between 1 and 3600")]
    public int ReadRetrySeconds { get; set; } = 30;

    [Range(1, 600, ErrorMessage = "Database:CommandTimeoutSeconds must be between 1 and 600")]
    public int CommandTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// statement_timeout of the bot's sessions: the server ends a statement that runs longer, even when the client
    /// that sent it is gone. 0 turns it off. Migrations set their own (none; they take locks with a lock_timeout).
    /// </summary>
    [Range(0, 3600, ErrorMessage = "Database:StatementTimeoutSeconds must be between 0 and 3600")]
    public int StatementTimeoutSeconds { get; set; } = 15;

    /// <summary>lock_timeout: a statement waiting longer than this for a lock fails instead of queueing everything behind it.</summary>
    [Range(0, 600, ErrorMessage = "Database:LockTimeoutSeconds must be between 0 and 600")]
    public int LockTimeoutSeconds { get; set; } = 5;

    /// <summary>idle_in_transaction_session_timeout: a session left idle inside a transaction (a stalled process) is ended, freeing its locks.</summary>
    [Range(0, 3600, ErrorMessage = "Database:IdleInTransactionTimeoutSeconds must be between 0 and 3600")]
    public int IdleInTransactionTimeoutSeconds { get; set; } = 60;
}

[OptionsValidator]
public sealed partial class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>;
