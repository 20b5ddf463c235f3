using Bot.Processing;
using Npgsql;
using Telegram.Bot.Types;

namespace Bot.Features.Users;

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

    /// <summary>The user's /lang choice, else the language Telegram reports for them.</summary>
    public static async Task<string> LanguageAsync(UpdateContext context, User user)
    {
        if (!context.Items.TryGetValue(Key(user.Id), out var chosen))
        {
            await using var command = context.Command("SELECT " + ChosenLanguageOf("$1"));
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = user.Id });
            chosen = await command.ExecuteScalarAsync(context.CancellationToken) as string;
            Remember(context, user.Id, (string?)chosen);
        }

        return Texts.Resolve((string?)chosen, user.LanguageCode);
    }

    /// <summary>Records the user's /lang choice (null: none) read by another statement of this update.</summary>
    public static void Remember(UpdateContext context, long userId, string? chosen) => context.Items[Key(userId)] = chosen;

    /// <summary>Stores the user's /lang choice.</summary>
    public static async Task SetLanguageAsync(UpdateContext context, User user, string language)
    {
        await using var command = context.Command(
            """
            INSERT INTO users (user_id, language_code, language) VALUES ($1, $2, $3)
            ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, language_code = excluded.language_code
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = user.Id });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = user.LanguageCode });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = language });
        await command.ExecuteNonQueryAsync(context.CancellationToken);
        Remember(context, user.Id, language);
    }

    private static string Key(long userId) => "language:" + userId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
