using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

public sealed class HostingOptions
{
    public const string Section = "Hosting";

    /// <summary>Serves only POST /telegram/webhook; the ingress points here.</summary>
    [Range(1, 65535, ErrorMessage = "Hosting:PublicPort must be a TCP port (1-65535)")]
    public int PublicPort { get; set; } = 8080;

    /// <summary>Health, admin API and OpenAPI; never exposed by the ingress.</summary>
    [Range(1, 65535, ErrorMessage = "Hosting:InternalPort must be a TCP port (1-65535)")]
    public int InternalPort { get; set; } = 9090;

    /// <summary>"*" for every interface (in a container), or an IP address such as 127.0.0.1.</summary>
    [Required(ErrorMessage = "Hosting:BindAddress is missing")]
    public string BindAddress { get; set; } = "*";
}

public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>How long readiness fails before the server stops taking requests, so endpoints can drain.</summary>
    [Range(0, 120, ErrorMessage = "Shutdown:DrainDelaySeconds must be between 0 and 120")]
    public double DrainDelaySeconds { get; set; } = 5;

    /// <summary>The most that in-flight requests and work get after the drain delay.</summary>
    [Range(1, 300, ErrorMessage = "Shutdown:TimeoutSeconds must be between 1 and 300")]
    public double TimeoutSeconds { get; set; } = 20;
}

[OptionsValidator]
public sealed partial class HostingOptionsValidator : IValidateOptions<HostingOptions>;

[OptionsValidator]
public sealed partial class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>;

public sealed class HostingRulesValidator : IValidateOptions<HostingOptions>
{
    public ValidateOptionsResult Validate(string? name, HostingOptions options)
    {
        var failures = new List<string>();
        if (options.PublicPort == options.InternalPort)
        {
            failures.Add("Hosting:PublicPort and Hosting:InternalPort must differ");
        }

        if (options.BindAddress != "*" && !System.Net.IPAddress.TryParse(options.BindAddress, out _))
        {
            failures.Add("Hosting:BindAddress must be * or an IP address");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
