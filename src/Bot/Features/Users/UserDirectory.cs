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
    /// <summary>A scalar sub-select that reads the user's /lang choice (user id as <c>$1</c>), for a statement to return it too.</summary>
    public const string ChosenLanguageColumn = "(SELECT language FROM users WHERE user_id = $1)";

    /// <summary><see cref="ChosenLanguageColumn"/> for the user id in the column <paramref name="userIdColumn"/> of a statement's row.</summary>
    public static string ChosenLanguageOf(string userIdColumn) => $"(SELECT language FROM users WHERE users.user_id = {userIdColumn})";

    /// <summary>The user's /lang choice, else the language Telegram reports for them.</summary>
    public static async Task<string> LanguageAsync(UpdateContext context, User user)
    {
        if (!context.Items.TryGetValue(Key(user.Id), out var chosen))
        {
            await using var command = context.Command("SELECT " + ChosenLanguageColumn);
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
