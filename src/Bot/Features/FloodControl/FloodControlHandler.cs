using Bot.Admin;
using Bot.Features.Flags;
using Bot.Features.Users;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Features.FloodControl;

/// <summary>
/// The first handler: a user who sends more than Bot:FloodMaxUpdates updates the bot would act on within
/// Bot:FloodWindowSeconds is warned once, and the rest of their updates in that window are taken and dropped.
/// The window is counted on the user's row in the handler's transaction, so it is exact across replicas, and
/// on the time each update was received, so a backlog handled late does not look like a flood. Admins are exempt.
/// </summary>
public sealed class FloodControlHandler(Texts texts, FeatureFlags flags, IOptionsMonitor<CommunityOptions> community, IOptionsMonitor<AdminOptions> admin)
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

        Count count;
        if (context.Items.Remove(CountKey, out var prepared))
        {
            count = (Count)prepared!;
        }
        else
        {
            count = (await CountAsync([(context, user)]))[user.Id];
        }

        var options = community.CurrentValue;
        if (count.Updates <= options.FloodMaxUpdates)
        {
            return false;
        }

        if (!count.Warned)
        {
            await using (var mark = context.Command("UPDATE flood_windows SET warned = true WHERE user_id = $1"))
            {
                mark.Parameters.Add(new NpgsqlParameter<long> { TypedValue = user.Id });
                await mark.ExecuteNonQueryAsync(context.CancellationToken);
            }

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
        return user is null || user.IsBot || !flags.IsEnabled(Feature.FloodControl, user.Id) || admin.CurrentValue.IsAdmin(user.Id)
            ? null
            : (user, message, query);
    }

    /// <summary>
    /// Counts one update against each user's window (keyed by the time the update was received), in the handlers'
    /// transaction, and reads the user's language on the way for every handler after this one (kept in each update's
    /// context). Users must be distinct.
    /// </summary>
    private async Task<Dictionary<long, Count>> CountAsync(List<(UpdateContext Context, User User)> updates)
    {
        var first = updates[0].Context;
        await using var command = first.Command(
            $"""
            INSERT INTO flood_windows AS f (user_id, window_start, updates)
            SELECT u.user_id, u.received_at, 1 FROM unnest($1::bigint[], $2::timestamptz[]) AS u(user_id, received_at)
            ON CONFLICT (user_id) DO UPDATE SET
                window_start = CASE WHEN f.window_start <= excluded.window_start - make_interval(secs => $3) THEN excluded.window_start ELSE f.window_start END,
                updates      = CASE WHEN f.window_start <= excluded.window_start - make_interval(secs => $3) THEN 1 ELSE f.updates + 1 END,
                warned       = CASE WHEN f.window_start <= excluded.window_start - make_interval(secs => $3) THEN false ELSE f.warned END
            RETURNING f.user_id, f.updates, f.warned, f.window_start, {UserDirectory.ChosenLanguageOf("f.user_id")}
            """);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = updates.Select(u => u.User.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = updates.Select(u => u.Context.Claim.ReceivedAt).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = community.CurrentValue.FloodWindowSeconds });
        var counts = new Dictionary<long, Count>(updates.Count);
        await using (var reader = await command.ExecuteReaderAsync(first.CancellationToken))
        {
            while (await reader.ReadAsync(first.CancellationToken))
            {
                counts[reader.GetInt64(0)] = new Count(reader.GetInt32(1), reader.GetBoolean(2), reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            }
        }

        foreach (var (context, user) in updates)
        {
            UserDirectory.Remember(context, user.Id, counts[user.Id].Language);
        }

        return counts;
    }

    private sealed record Count(int Updates, bool Warned, DateTimeOffset WindowStart, string? Language);
}
