using Bot.Hosting;
using System.Runtime.InteropServices;
using Bot.Migrations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot;

/// <summary>
/// The executable's commands: <c>serve</c> (default), <c>migrate</c>, <c>webhook</c>, <c>deadletters</c>. Every failure ends
/// with exit code non-zero and one line on stderr that says why.
/// </summary>
public static class Cli
{
    public const string Usage =
        """
        usage: Bot [serve]                        run the bot (the default)
               Bot migrate up [--to VERSION]      apply migrations (all, or up to VERSION)
               Bot migrate down [--to VERSION]    revert migrations (one, or down to VERSION; 0 empties the schema)
               Bot migrate status                 list applied and pending migrations
               Bot migrate create NAME [--feature F]
                                                  add a migration pair to src/Bot/Migrations/Sql, or to
                                                  src/Bot/Features/F/Migrations (in a source tree)
               Bot webhook set|delete|info        manage the Telegram webhook
               Bot deadletters list [--limit N] [--kind K]
                                                  dead-lettered updates, newest first (20 unless N)
               Bot deadletters requeue ID...|--all [--kind K]
                                                  hand dead updates back to the workers (attempts start again)
               Bot deadletters drop ID...|--all [--kind K]
                                                  delete dead updates
        Settings come from appsettings.json, appsettings.{Environment}.json, Config__Directory, Secrets__Directory
        and environment variables (see .env.example).
        """;

    /// <param name="args">The command line.</param>
    /// <param name="serve">Runs the bot.</param>
    /// <param name="publishCommands">Registers the command menu (after <c>webhook set</c>).</param>
    public static async Task<int> RunAsync(
        string[] args, Func<string[], Task<int>> serve, Func<global::Telegram.Bot.ITelegramBotClient, IConfiguration, CancellationToken, Task>? publishCommands = null)
    {
        try
        {
            var command = args.Length == 0 || args[0].StartsWith('-') ? "serve" : args[0];
            var rest = args.Length == 0 || args[0].StartsWith('-') ? args : args[1..];
            switch (command)
            {
                case "serve":
                    return await serve(rest);
                case "migrate":
                    using (var cancellation = CancelOnSignal())
                    {
                        return await MigrateCommand.RunAsync(rest, Console.Out, cancellation.Token);
                    }

                case "webhook":
                    using (var cancellation = CancelOnSignal())
                    {
                        return await Bot.Telegram.WebhookCommand.RunAsync(rest, Console.Out, cancellation.Token, publishCommands);
                    }

                case "deadletters":
                    using (var cancellation = CancelOnSignal())
                    {
                        return await Bot.Processing.DeadLettersCommand.RunAsync(rest, Console.Out, cancellation.Token);
                    }

                case "help" or "--help" or "-h":
                    Console.Out.WriteLine(Usage);
                    return ExitCodes.Success;
                default:
                    Console.Error.WriteLine(Usage);
                    return Fail($"unknown command '{command}'", ExitCodes.Usage);
            }
        }
        catch (StartupException exception)
        {
            return Fail(exception.Message, exception.ExitCode);
        }
        catch (OptionsValidationException exception)
        {
            return Fail(StartupError.Describe(exception), ExitCodes.Configuration);
        }
        catch (AggregateException exception) when (exception.InnerExceptions.All(e => e is OptionsValidationException))
        {
            var failures = exception.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures);
            return Fail(StartupError.Describe(new OptionsValidationException("", typeof(object), failures)), ExitCodes.Configuration);
        }
        catch (MigrationException exception)
        {
            return Fail("migration error: " + exception.Message, ExitCodes.Failure);
        }
        catch (NpgsqlException exception)
        {
            return Fail("database error: " + exception.Message, ExitCodes.Failure);
        }
        catch (OperationCanceledException)
        {
            return Fail("cancelled", ExitCodes.Failure);
        }
        catch (Exception exception)
        {
            // Unexpected: the stack for whoever debugs it, then the one-line reason last.
            Console.Error.WriteLine(exception.ToString());
            return Fail($"unexpected error: {exception.GetType().Name}: {exception.Message}", ExitCodes.Failure);
        }
    }

    /// <summary>Writes the one-line reason; messages never carry setting values, only their names.</summary>
    public static int Fail(string message, int exitCode)
    {
        Console.Error.WriteLine("Bot: " + message.ReplaceLineEndings(" "));
        return exitCode;
    }

    private static CancellationTokenSource CancelOnSignal()
    {
        var source = new CancellationTokenSource();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                source.Cancel();
            });
        }

        return source;
    }
}
