using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging.Console;

namespace Bot.Hosting;

public static class LoggingExtensions
{
    /// <summary>
    /// Structured JSON lines on stdout (for the collector) unless Logging:Console:FormatterName says "simple",
    /// as appsettings.Development.json does for people reading a terminal. The slim builder registers only
    /// the simple formatter, so both are added here. Every formatter's output is redacted
    /// (<see cref="RedactingConsoleFormatter"/>): a library's message, a structured value, a scope or an
    /// exception's text may quote a Bot API URL. The one <see cref="SecretRedactor"/> of the process is
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

        RedactConsoleFormatters(builder.Services);
        return builder;
    }

    /// <summary>
    /// Replaces each registered console formatter by one that runs it and redacts what it wrote. The built-in
    /// formatters are internal types, so the wrapped one is made from its registration, the way the container
    /// would have made it; the wrapper keeps its name, so Logging:Console:FormatterName still selects it.
    /// </summary>
    private static void RedactConsoleFormatters(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(ConsoleFormatter) || descriptor.IsKeyedService)
            {
                continue;
            }

            var create = Factory(descriptor);
            services[i] = ServiceDescriptor.Describe(typeof(ConsoleFormatter),
                sp => new RedactingConsoleFormatter(create(sp), sp.GetRequiredService<SecretRedactor>()), descriptor.Lifetime);
        }
    }

    private static Func<IServiceProvider, ConsoleFormatter> Factory(ServiceDescriptor descriptor) => descriptor switch
    {
        { ImplementationInstance: ConsoleFormatter instance } => _ => instance,
        { ImplementationFactory: { } factory } => sp => (ConsoleFormatter)factory(sp),
        { ImplementationType: { } type } => new TypeActivator(type).Create,
        _ => throw new InvalidOperationException($"a console formatter registration without an implementation: {descriptor}"),
    };

    // A class rather than a lambda: the trimming annotation on the type (keep its public constructors) follows a
    // field, not a captured variable.
    private sealed class TypeActivator([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type type)
    {
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)]
        private readonly Type type = type;

        public ConsoleFormatter Create(IServiceProvider services) => (ConsoleFormatter)ActivatorUtilities.CreateInstance(services, type);
    }
}
