using Bot.Features.Flags;
using Bot.Features.Users;
using Bot.Processing;
using Npgsql;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.Subscriptions;

/// <summary>
/// /start subscribes (the deep-link payload of the first one is kept as the source), /stop unsubscribes, /lang
/// chooses English or Russian (a button per language when given no argument). Private chats only: in a group
/// these fall through to /help's answers.
/// </summary>
public sealed class SubscriptionHandler(Texts texts, FeatureFlags flags) : IUpdateHandler
{
    private const string LanguageCallback = "lang:";

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        switch (context.Update)
        {
            case { Type: UpdateType.Message, Message: { Chat.Type: ChatType.Private, From: { } from } message }
                when flags.IsEnabled(Feature.Subscriptions, from.Id) && ChatCommand.TryParse(message.Text, null, out var command):
                return command.Name switch
                {
                    "start" => await StartAsync(context, message, from, command.Argument),
                    "stop" => await StopAsync(context, message, from),
                    "lang" => await LanguageAsync(context, message, from, command.Argument),
                    _ => false,
                };
            case { Type: UpdateType.CallbackQuery, CallbackQuery: { Data: { } data, From: { } user } query }
                when data.StartsWith(LanguageCallback, StringComparison.Ordinal) && flags.IsEnabled(Feature.Subscriptions, user.Id):
                var language = data[LanguageCallback.Length..];
                if (!Texts.Languages.Contains(language))
                {
                    context.Answer(query);
                    return true;
                }

                await UserDirectory.SetLanguageAsync(context, user, language);
                var confirmation = texts.Get(language, "Subscriptions.lang_set");
                context.Answer(query, confirmation);
                context.Send(user.Id, confirmation);
                return true;
            default:
                return false;
        }
    }

    private async Task<bool> StartAsync(UpdateContext context, Message message, User from, string payload)
    {
        // Talking to the bot again means it can reach them: a user once marked blocked is active again.
        await using var command = context.Command(
            """
            WITH previous AS (SELECT status FROM users WHERE user_id = $1)
            INSERT INTO users AS u (user_id, language_code, status, source, subscribed_at, status_at)
            VALUES ($1, $2, 'active', nullif($3, ''), now(), now())
            ON CONFLICT (user_id) DO UPDATE SET
                language_code = excluded.language_code,
                status = 'active',
                source = coalesce(u.source, excluded.source),
                subscribed_at = coalesce(u.subscribed_at, now()),
                status_at = CASE WHEN u.status = 'active' THEN u.status_at ELSE now() END
            RETURNING (SELECT status FROM previous), u.language
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.Id });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = from.LanguageCode });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Source(payload) });
        string? previous, chosen;
        await using (var reader = await command.ExecuteReaderAsync(context.CancellationToken))
        {
            await reader.ReadAsync(context.CancellationToken);
            previous = reader.IsDBNull(0) ? null : reader.GetString(0);
            chosen = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        await using (var reachable = context.Command("DELETE FROM unreachable_chats WHERE chat_id = $1"))
        {
            reachable.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.Id });
            await reachable.ExecuteNonQueryAsync(context.CancellationToken);
        }

        var language = Texts.Resolve(chosen, from.LanguageCode);
        context.Reply(message, texts.Get(language, previous == "active" ? "Subscriptions.already_subscribed" : "Subscriptions.subscribed"));
        return true;
    }

    private async Task<bool> StopAsync(UpdateContext context, Message message, User from)
    {
        await using var command = context.Command(
            "UPDATE users SET status = 'stopped', status_at = now() WHERE user_id = $1 AND status = 'active' RETURNING 1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.Id });
        var stopped = await command.ExecuteScalarAsync(context.CancellationToken) is not null;
        var language = await UserDirectory.LanguageAsync(context, from);
        context.Reply(message, texts.Get(language, stopped ? "Subscriptions.stopped" : "Subscriptions.not_subscribed"));
        return true;
    }

    private async Task<bool> LanguageAsync(UpdateContext context, Message message, User from, string argument)
    {
        var requested = argument.Trim().ToLowerInvariant();
        if (requested.Length == 0)
        {
            var current = await UserDirectory.LanguageAsync(context, from);
            var buttons = new InlineKeyboardMarkup([[
                InlineKeyboardButton.WithCallbackData("English", LanguageCallback + Texts.English),
                InlineKeyboardButton.WithCallbackData("Русский", LanguageCallback + Texts.Russian),
            ]]);
            context.Reply(message, texts.Get(current, "Subscriptions.lang_choose"), buttons);
            return true;
        }

        if (!Texts.Languages.Contains(requested))
        {
            context.Reply(message, texts.Get(await UserDirectory.LanguageAsync(context, from), "Subscriptions.lang_unknown"));
            return true;
        }

        await UserDirectory.SetLanguageAsync(context, from, requested);
        context.Reply(message, texts.Get(requested, "Subscriptions.lang_set"));
        return true;
    }

    /// <summary>A deep-link payload is at most 64 characters of A–Z, a–z, 0–9, _ and -; anything else is not kept.</summary>
    private static string Source(string payload) =>
        payload.Length is > 0 and <= 64 && payload.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? payload : "";
}
