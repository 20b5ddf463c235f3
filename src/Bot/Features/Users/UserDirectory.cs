using Bot.Processing;
using Npgsql;
using Telegram.Bot.Types;

namespace Bot.Features.Users;

/// <summary>The users table as the features read it: which language to answer in.</summary>
public static class UserDirectory
{
    /// <summary>The user's /lang choice, else the language Telegram reports for them.</summary>
    public static async Task<string> LanguageAsync(UpdateContext context, User user)
    {
        await using var command = context.Command("SELECT language FROM users WHERE user_id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = user.Id });
        var chosen = await command.ExecuteScalarAsync(context.CancellationToken) as string;
        return Texts.Resolve(chosen, user.LanguageCode);
    }
}
