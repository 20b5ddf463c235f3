using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Coordination;

public enum LeaderElectionMode
{
    /// <summary>A Kubernetes Lease inside a cluster, the PostgreSQL lock elsewhere.</summary>
    Auto,
    Postgres,
    Kubernetes,
}

public sealed class CoordinationOptions
{
    public const string Section = "Coordination";

    public LeaderElectionMode Mode { get; set; } = LeaderElectionMode.Auto;

    /// <summary>The Lease object's name (Kubernetes) and the lock's name (PostgreSQL).</summary>
    [Required(ErrorMessage = "Coordination:LeaseName is missing")]
    [RegularExpression("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", ErrorMessage = "Coordination:LeaseName must be a DNS label (a-z, 0-9, -)")]
    public string LeaseName { get; set; } = "bot-leader";

    /// <summary>How often a follower tries to take the lead, and how often the leader checks it still leads.</summary>
    [Range(0.1, 60, ErrorMessage = "Coordination:RetrySeconds must be between 0.1 and 60")]
    public double RetrySeconds { get; set; } = 2;

    /// <summary>Whether this process runs in a Kubernetes cluster (its service environment is set).</summary>
    public static bool InCluster => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));
}

[OptionsValidator]
public sealed partial class CoordinationOptionsValidator : IValidateOptions<CoordinationOptions>;

/// <summary>Kubernetes mode needs the cluster's service environment; say so instead of failing inside the client.</summary>
public sealed class LeaderElectionModeValidator : IValidateOptions<CoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationOptions options) =>
        options.Mode == LeaderElectionMode.Kubernetes && !CoordinationOptions.InCluster
            ? ValidateOptionsResult.Fail("Coordination:Mode is Kubernetes but this process runs outside a cluster (no KUBERNETES_SERVICE_HOST); use Auto or Postgres")
            : ValidateOptionsResult.Success;
}
