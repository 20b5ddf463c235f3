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
public sealed class FloodControlHandler(Texts texts, FeatureFlags flags, IOptionsMonitor<CommunityOptions> community, IOptionsMonitor<AdminOptions> admin) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        var (user, message, query) = context.Update switch
        {
            { Type: UpdateType.Message, Message: { From: { } from } m } when m.Chat.Type == ChatType.Private || ChatCommand.TryParse(m.Text, null, out _) => (from, m, null),
            { Type: UpdateType.CallbackQuery, CallbackQuery: { } q } => (q.From, null, q),
            _ => ((User?)null, (Message?)null, (CallbackQuery?)null),
        };
        if (user is null || user.IsBot || !flags.IsEnabled(Feature.FloodControl, user.Id) || admin.CurrentValue.IsAdmin(user.Id))
        {
            return false;
        }

        var options = community.CurrentValue;
        await using var command = context.Command(
            $"""
            INSERT INTO flood_windows AS f (user_id, window_start, updates) VALUES ($1, $2, 1)
            ON CONFLICT (user_id) DO UPDATE SET
                window_start = CASE WHEN f.window_start <= $2 - make_interval(secs => $3) THEN $2 ELSE f.window_start END,
                updates      = CASE WHEN f.window_start <= $2 - make_interval(secs => $3) THEN 1 ELSE f.updates + 1 END,
                warned       = CASE WHEN f.window_start <= $2 - make_interval(secs => $3) THEN false ELSE f.warned END
            RETURNING updates, warned, extract(epoch FROM window_start + make_interval(secs => $3) - $2)::int,
                -- Every handler after this one answers in the user's language: read it in this round trip.
                {UserDirectory.ChosenLanguageColumn}
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = user.Id });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = context.Claim.ReceivedAt });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.FloodWindowSeconds });
        int updates, remaining;
        bool warned;
        await using (var reader = await command.ExecuteReaderAsync(context.CancellationToken))
        {
            await reader.ReadAsync(context.CancellationToken);
            (updates, warned, remaining) = (reader.GetInt32(0), reader.GetBoolean(1), reader.GetInt32(2));
            UserDirectory.Remember(context, user.Id, reader.IsDBNull(3) ? null : reader.GetString(3));
        }

        if (updates <= options.FloodMaxUpdates)
        {
            return false;
        }

        if (!warned)
        {
            await using (var mark = context.Command("UPDATE flood_windows SET warned = true WHERE user_id = $1"))
            {
                mark.Parameters.Add(new NpgsqlParameter<long> { TypedValue = user.Id });
                await mark.ExecuteNonQueryAsync(context.CancellationToken);
            }

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
}
