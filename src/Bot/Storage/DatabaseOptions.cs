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

    [Range(1, 600, ErrorMessage = "Database:CommandTimeoutSeconds must be between 1 and 600")]
    public int CommandTimeoutSeconds { get; set; } = 10;
}

[OptionsValidator]
public sealed partial class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>;
