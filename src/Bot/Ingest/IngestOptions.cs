using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Ingest;

public sealed class IngestOptions
{
    public const string Section = "Ingest";

    public const string WebhookPath = "/telegram/webhook";

    /// <summary>Telegram's largest updates are a few tens of kilobytes; anything far above is not Telegram.</summary>
    [Range(1024, 16 * 1024 * 1024, ErrorMessage = "Ingest:MaxBodyBytes must be between 1024 and 16777216")]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Rows in one group-commit insert.</summary>
    [Range(1, 10_000, ErrorMessage = "Ingest:MaxBatchSize must be between 1 and 10000")]
    public int MaxBatchSize { get; set; } = 500;

    /// <summary>Inserts in flight at once; while one waits for its commit the next batch gathers.</summary>
    [Range(1, 64, ErrorMessage = "Ingest:MaxConcurrentFlushes must be between 1 and 64")]
    public int MaxConcurrentFlushes { get; set; } = 3;

    /// <summary>Updates waiting for a batch; requests beyond it wait for room.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Ingest:QueueCapacity must be between 1 and 1000000")]
    public int QueueCapacity { get; set; } = 20_000;

    /// <summary>
    /// Body bytes held at once by requests being read or waiting for their commit; beyond it a request gets 503
    /// before its body is read (IngestBudget). At least four times MaxBodyBytes.
    /// </summary>
    [Range(4 * 1024, 1024L * 1024 * 1024, ErrorMessage = "Ingest:MaxBufferedBytes must be between 4096 and 1073741824")]
    public long MaxBufferedBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>The longest a request waits for its row to commit before it answers 503.</summary>
    [Range(0.1, 120, ErrorMessage = "Ingest:CommitTimeoutSeconds must be between 0.1 and 120")]
    public double CommitTimeoutSeconds { get; set; } = 10;
}

[OptionsValidator]
public sealed partial class IngestOptionsValidator : IValidateOptions<IngestOptions>;

public sealed class IngestBudgetValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options) =>
        options.MaxBufferedBytes < 4L * options.MaxBodyBytes
            ? ValidateOptionsResult.Fail("Ingest:MaxBufferedBytes must be at least four times Ingest:MaxBodyBytes")
            : ValidateOptionsResult.Success;
}
