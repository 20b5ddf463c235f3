using Bot.Processing;
using Telegram.Bot.Types;
using static Bot.Storage.Sql;

namespace Bot.Features.Subscriptions;

/// <summary>
/// The users table as the features read it: which language to answer in. A user's /lang choice is read at most
/// once per update: a statement that already touches the user's row may hand it over (<see cref="Remember"/>).
/// </summary>
public static class UserDirectory
{
    /// <summary>
    /// A scalar sub-select that reads the /lang choice of the user whose id is <paramref name="userIdColumn"/> (a
    /// column of the statement's row, or a parameter), for a statement to return it too.
    /// </summary>
    public static string ChosenLanguageOf(string userIdColumn) => $"(SELECT language FROM users WHERE users.user_id = {userIdColumn})";

    /// <summary>
    /// The user's /lang choice, else the language Telegram reports for them. The same statement notes that the user
    /// talked to the bot (users.last_seen_at, kept to the hour so that most updates write nothing), for audiences of
    /// those active within some days.
    /// </summary>
    public static async Task<string> LanguageAsync(UpdateContext context, User user)
    {
        if (!context.Items.TryGetValue(Key(user.Id), out var chosen))
        {
            chosen = await context.Db.ScalarAsync<string>(
                """
                WITH seen AS (
                    UPDATE users SET last_seen_at = now()
                    WHERE user_id = $1 AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 hour')
                    RETURNING language)
                SELECT coalesce((SELECT language FROM seen),
                """ + ChosenLanguageOf("$1") + ")",
                context.CancellationToken, Arg(user.Id));
            Remember(context, user.Id, (string?)chosen);
        }

        return Texts.Resolve((string?)chosen, user.LanguageCode);
    }

    /// <summary>
    /// Whether the user has talked to the bot in private and not blocked it: the bot may start a private chat with
    /// them (a user who never did can only be addressed in a group).
    /// </summary>
    public static async Task<bool> CanWriteToAsync(UpdateContext context, long userId) =>
        await context.Db.ScalarAsync<bool?>("SELECT status <> 'blocked' FROM users WHERE user_id = $1", context.CancellationToken, Arg(userId)) == true;

    /// <summary>Records the user's /lang choice (null: none) read by another statement of this update.</summary>
    public static void Remember(UpdateContext context, long userId, string? chosen) => context.Items[Key(userId)] = chosen;

    /// <summary>Stores the user's /lang choice.</summary>
    public static async Task SetLanguageAsync(UpdateContext context, User user, string language)
    {
        await context.Db.ExecuteAsync(
            """
            INSERT INTO users (user_id, language_code, language) VALUES ($1, $2, $3)
            ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, language_code = excluded.language_code
            """,
            context.CancellationToken, Arg(user.Id), Arg(user.LanguageCode), Arg(language));
        Remember(context, user.Id, language);
    }

    private static string Key(long userId) => "language:" + userId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
