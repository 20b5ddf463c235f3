using Microsoft.Extensions.FileProviders;

namespace Bot.Hosting;

/// <summary>
/// The configuration sources, in the order of architecture section 4: appsettings, the environment's
/// appsettings, the mounted ConfigMap (reloaded on change), key-per-file secrets, then environment variables
/// and the command line, each later one winning.
/// </summary>
public static class BotConfiguration
{
    public const string DefaultSecretsDirectory = "/etc/bot/secrets";
    public const string DefaultConfigDirectory = "/etc/bot/config";

    /// <summary>Adds the mounted config and secrets, then re-adds the environment so that it keeps the last word.</summary>
    public static void AddBotSources(this IConfigurationManager configuration, string[] args)
    {
        // The directories themselves may be overridden by the environment or the command line only.
        var early = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        var configDirectory = early["Config:Directory"] ?? DefaultConfigDirectory;
        var secretsDirectory = early["Secrets:Directory"] ?? DefaultSecretsDirectory;

        if (Directory.Exists(configDirectory))
        {
            // A ConfigMap volume updates files through a symlink swap; polling sees that where inotify may not.
            var provider = new PhysicalFileProvider(Path.GetFullPath(configDirectory))
            {
                UsePollingFileWatcher = true,
                UseActivePolling = true,
            };
            configuration.AddJsonFile(provider, "appsettings.json", optional: true, reloadOnChange: true);
        }

        if (Directory.Exists(secretsDirectory))
        {
            // Reloaded on change, for secrets that rotate without a restart (the admin tokens); the others are
            // read once at start. Polling, for the same reason as the ConfigMap.
            var provider = new PhysicalFileProvider(Path.GetFullPath(secretsDirectory))
            {
                UsePollingFileWatcher = true,
                UseActivePolling = true,
            };
            configuration.AddKeyPerFile(options =>
            {
                options.FileProvider = provider;
                options.Optional = true;
                // Kubernetes projects ..data and ..timestamp entries beside the keys.
                options.IgnoreCondition = name => name.StartsWith("..", StringComparison.Ordinal);
                options.ReloadOnChange = true;
            });
        }

        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args);
    }

    /// <summary>A configuration for the commands that run without a web host (migrate, webhook).</summary>
    public static IConfigurationRoot BuildForCommand(string[] args)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? "Production";
        var manager = new ConfigurationManager();
        manager.SetBasePath(AppContext.BaseDirectory);
        manager.AddJsonFile("appsettings.json", optional: true);
        manager.AddJsonFile($"appsettings.{environment}.json", optional: true);
        manager.AddBotSources(args);
        return manager;
    }
}
