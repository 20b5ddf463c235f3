using Bot.Admin;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Features.FloodControl;

/// <summary>
/// A user who sends more than Bot:FloodMaxUpdates updates the bot would act on within
/// Bot:FloodWindowSeconds is warned once, and the rest of their updates in that window are taken and dropped.
/// The window is counted on the user's row in the handler's transaction, so it is exact across replicas, and
/// on the time each update was received, so a backlog handled late does not look like a flood. Admins are exempt.
/// </summary>
public sealed class FloodControlHandler(Texts texts, FeatureFlags flags, IOptionsMonitor<FloodControlOptions> floodOptions, IOptionsMonitor<AdminOptions> admin)
    : IUpdateHandler, IGroupPreparer
{
    private const string CountKey = "FloodControl.count";

    /// <summary>
    /// Counts the group's updates in one statement (the first update of each user; a user's later updates in the
    /// group are counted by their own handler run, after it, so the order is kept).
    /// </summary>
    public async ValueTask PrepareAsync(IReadOnlyList<UpdateContext> group)
    {
        var firsts = new List<(UpdateContext Context, User User)>();
        var users = new HashSet<long>();
        foreach (var context in group)
        {
            if (Subject(context) is { } subject && users.Add(subject.User.Id))
            {
                firsts.Add((context, subject.User));
            }
        }

        if (firsts.Count < 2)
        {
            return;
        }

        var counts = await CountAsync(firsts);
        foreach (var (context, user) in firsts)
        {
            context.Items[CountKey] = counts[user.Id];
        }
    }

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (Subject(context) is not { } subject)
        {
            return false;
        }

        var (user, message, query) = subject;

        FloodCount count;
        if (context.Items.Remove(CountKey, out var prepared))
        {
            count = (FloodCount)prepared!;
        }
        else
        {
            count = (await CountAsync([(context, user)]))[user.Id];
        }

        var options = floodOptions.CurrentValue;
        if (count.Updates <= options.FloodMaxUpdates)
        {
            return false;
        }

        if (!count.Warned)
        {
            await FloodWindows.MarkWarnedAsync(context.Db, user.Id, (message?.Chat ?? query?.Message?.Chat)?.Id ?? user.Id, context.CancellationToken);

            var remaining = (int)Math.Round((count.WindowStart + TimeSpan.FromSeconds(options.FloodWindowSeconds) - context.Claim.ReceivedAt).TotalSeconds, MidpointRounding.AwayFromZero);
            var warning = texts.Format(await UserDirectory.LanguageAsync(context, user), "FloodControl.warning", ("seconds", Math.Max(1, remaining)));
            if (query is not null)
            {
                context.Answer(query, warning, alert: true);
            }
            else
            {
                context.Reply(message!, warning);
            }
        }

        return true;
    }

    /// <summary>The user an update counts against, if flood control applies to it (with the message or button press to answer).</summary>
    private (User User, Message? Message, CallbackQuery? Query)? Subject(UpdateContext context)
    {
        var (user, message, query) = context.Update switch
        {
            { Type: UpdateType.Message, Message: { From: { } from } m } when m.Chat.Type == ChatType.Private || ChatCommand.TryParse(m.Text, null, out _) => (from, m, null),
            { Type: UpdateType.CallbackQuery, CallbackQuery: { } q } => (q.From, null, q),
            _ => ((User?)null, (Message?)null, (CallbackQuery?)null),
        };
        return user is null || user.IsBot || !flags.IsEnabled(FloodControlFeature.FeatureName, user.Id) || admin.CurrentValue.IsAdmin(user.Id)
            ? null
            : (user, message, query);
    }

    /// <summary>
    /// Counts one update against each user's window, in the handlers' transaction, and leaves the user's language for
    /// every handler after this one (kept in each update's context). Users must be distinct.
    /// </summary>
    private async Task<Dictionary<long, FloodCount>> CountAsync(List<(UpdateContext Context, User User)> updates)
    {
        var first = updates[0].Context;
        var counts = await FloodWindows.CountAsync(
            first.Db, updates.Select(u => u.User.Id).ToArray(), updates.Select(u => u.Context.Claim.ReceivedAt).ToArray(),
            floodOptions.CurrentValue.FloodWindowSeconds, first.CancellationToken);
        foreach (var (context, user) in updates)
        {
            UserDirectory.Remember(context, user.Id, counts[user.Id].Language);
        }

        return counts;
    }
}
