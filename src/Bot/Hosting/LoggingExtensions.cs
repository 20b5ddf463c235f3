using Microsoft.Extensions.Logging.Console;

namespace Bot.Hosting;

public static class LoggingExtensions
{
    /// <summary>
    /// Structured JSON lines on stdout (for the collector) unless Logging:Console:FormatterName says "simple",
    /// as appsettings.Development.json does for people reading a terminal. The slim builder registers only
    /// the simple formatter, so both are added here. The one <see cref="SecretRedactor"/> of the process is
    /// registered here, first; telemetry and the workers use it too.
    /// </summary>
    public static IHostApplicationBuilder AddBotLogging(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new SecretRedactor(sp.GetRequiredService<IConfiguration>()));
        builder.Logging.ClearProviders();
        var formatter = builder.Configuration["Logging:Console:FormatterName"];
        if (string.Equals(formatter, ConsoleFormatterNames.Simple, StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddSimpleConsole();
        }
        else
        {
            builder.Logging.AddJsonConsole();
        }

        return builder;
    }
}
