using Bot.Admin;
using Bot.Coordination;
using Bot.Telegram;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace Bot.Features;

/// <summary>Who may run a command.</summary>
public enum CommandAccess
{
    /// <summary>Anyone who talks to the bot.</summary>
    Everyone,

    /// <summary>The bot's admins (Admin__UserIds).</summary>
    Admins,

    /// <summary>The admins of the chat it is run in (and the bot's admins).</summary>
    ChatAdmins,
}

/// <summary>
/// A command a feature answers. Its description is the feature's text <c>command_&lt;name&gt;</c> in each language
/// (<c>Features/X/messages.&lt;language&gt;.json</c>); <see cref="Feature"/> is filled in by the feature list.
/// </summary>
public sealed record CommandSpec(string Name, CommandAccess Access, string Feature = "")
{
    public string DescriptionKey => $"{Feature}.command_{Name}";

    /// <summary>The feature flag the command is behind, if any: /help and the menu show it only where the flag is on.</summary>
    public string? Flag { get; init; }
}

/// <summary>Every feature's commands, in the order of the feature list: what /help lists and Telegram's menu shows.</summary>
public sealed class CommandRegistry(IEnumerable<CommandSpec> commands)
{
    public IReadOnlyList<CommandSpec> All { get; } = Distinct(commands);

    /// <summary>The commands a caller may run: everyone's first, then those for admins (of the bot, or of the chat).</summary>
    /// <paramref name="flagOn"/> says whether a command's flag is on for the caller (none: every flagged command is left out).
    public IEnumerable<CommandSpec> For(bool isAdmin, bool isChatAdmin = false, Func<string, bool>? flagOn = null) =>
        All.Where(c => c.Access == CommandAccess.Everyone)
            .Concat(All.Where(c => c.Access != CommandAccess.Everyone && (isAdmin || (c.Access == CommandAccess.ChatAdmins && isChatAdmin))))
            .Where(c => c.Flag is null || flagOn?.Invoke(c.Flag) == true);

    /// <summary>"/name – description" lines of <paramref name="commands"/> in <paramref name="language"/>.</summary>
    public static string Lines(Texts texts, string language, IEnumerable<CommandSpec> commands) =>
        string.Join("\n", commands.Select(c => $"/{c.Name} – {texts.Get(language, c.DescriptionKey)}"));

    /// <summary>Telegram's command menu in <paramref name="language"/> for the given commands.</summary>
    public static BotCommand[] Menu(Texts texts, string language, IEnumerable<CommandSpec> commands) =>
        [.. commands.Select(c => new BotCommand { Command = c.Name, Description = texts.Get(language, c.DescriptionKey) })];

    /// <summary>
    /// Registers the menu with Telegram (setMyCommands): everyone's commands for all private chats, per language (English
    /// also as the default for other languages); everyone's plus the chat admins' for the administrators of every group
    /// (Telegram's all_chat_administrators scope); and everyone's plus all the admins' in each bot admin's own chat.
    /// </summary>
    /// A flagged command is in the menu when its flag is on for everyone (<paramref name="flagOn"/>).
    public async Task PublishAsync(ITelegramBotClient client, Texts texts, IReadOnlyList<long> admins, CancellationToken cancellationToken, Func<string, bool>? flagOn = null)
    {
        var everyone = For(isAdmin: false, flagOn: flagOn).ToList();
        var chatAdmins = For(isAdmin: false, isChatAdmin: true, flagOn: flagOn).ToList();
        var all = For(isAdmin: true, flagOn: flagOn).ToList();
        await client.SetMyCommands(Menu(texts, Texts.English, everyone), new BotCommandScopeDefault(), null, cancellationToken);
        if (chatAdmins.Count > everyone.Count)
        {
            await client.SetMyCommands(Menu(texts, Texts.English, chatAdmins), new BotCommandScopeAllChatAdministrators(), null, cancellationToken);
        }

        foreach (var language in Texts.Languages)
        {
            await client.SetMyCommands(Menu(texts, language, everyone), new BotCommandScopeDefault(), language, cancellationToken);
            if (chatAdmins.Count > everyone.Count)
            {
                await client.SetMyCommands(Menu(texts, language, chatAdmins), new BotCommandScopeAllChatAdministrators(), language, cancellationToken);
            }

            foreach (var admin in admins)
            {
                await client.SetMyCommands(Menu(texts, language, all), new BotCommandScopeChat { ChatId = admin }, language, cancellationToken);
            }
        }
    }

    private static CommandSpec[] Distinct(IEnumerable<CommandSpec> commands)
    {
        var list = commands.ToArray();
        if (list.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidOperationException($"/{twice.Key} is declared by {string.Join(" and ", twice.Select(c => c.Feature))}");
        }

        return list;
    }
}

/// <summary>
/// Publishes the command menu when this replica takes the lead (and so after every deploy), retrying while Telegram
/// cannot be reached; <c>Bot webhook set</c> publishes it too.
/// </summary>
public sealed partial class CommandMenu(
    CommandRegistry registry, Texts texts, TelegramClients telegram, IOptionsMonitor<AdminOptions> admin, FeatureFlags flags, TimeProvider time, ILogger<CommandMenu> logger)
    : ILeaderSingleton
{
    public string Name => "commands";

    public Task RunAsync(CancellationToken leadership) => OncePerTerm.RunAsync(
        async token =>
        {
            // A flagged feature's commands are in the menu when its flag is on for everyone as the term begins.
            await registry.PublishAsync(telegram.Sender, texts, admin.CurrentValue.Users, token, flags.IsEnabledForAll);
            LogPublished(logger, registry.All.Count);
        },
        (exception, delay) => LogFailed(logger, exception.GetType().Name, delay.TotalSeconds), time, leadership);

    [LoggerMessage(Level = LogLevel.Information, Message = "Command menu of {Count} commands registered with Telegram")]
    private static partial void LogPublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registering the command menu failed ({ErrorType}); retrying in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string errorType, double seconds);
}
