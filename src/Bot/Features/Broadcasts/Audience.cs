using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Bot.Storage;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>
/// Who a broadcast goes to: every active subscriber (no filter set), or those matching every filter that is set.
/// Stored with the broadcast as JSON (broadcasts.audience) and applied by SQL, so the count shown before sending and
/// the expansion from the persisted cursor read the same filter.
/// </summary>
/// <param name="Languages">The user's language (their /lang choice, else Telegram's language code), any of these.</param>
/// <param name="Sources">The deep-link source of their first /start (t.me/bot?start=SOURCE), any of these.</param>
/// <param name="SubscribedAfter">Subscribed at or after this time.</param>
/// <param name="SubscribedBefore">Subscribed before this time.</param>
/// <param name="ActiveWithinDays">Talked to the bot within this many days.</param>
/// <param name="Member">Approved by the join gate into a gated chat (its decisions of the retention period).</param>
/// <param name="List">In this saved audience list.</param>
public sealed partial record Audience(
    string[]? Languages = null, string[]? Sources = null, DateTimeOffset? SubscribedAfter = null, DateTimeOffset? SubscribedBefore = null,
    int? ActiveWithinDays = null, bool? Member = null, string? List = null)
{
    public static Audience Everyone { get; } = new();

    [JsonIgnore]
    public bool IsEveryone => this == Everyone || (Languages is null && Sources is null && SubscribedAfter is null && SubscribedBefore is null
        && ActiveWithinDays is null && Member is not true && List is null);

    /// <summary>The language a user is matched on and gets their variant in: their /lang choice, else Telegram's code's language.</summary>
    public const string UserLanguage = "coalesce(u.language, lower(split_part(u.language_code, '-', 1)), '')";

    /// <summary>
    /// The filter over users u for the audience JSON in parameter <paramref name="parameter"/> (every key optional;
    /// an absent key filters nothing). Active subscribers only.
    /// </summary>
    public static string Filter(int parameter) => Filter($"${parameter}::jsonb");

    /// <summary>The filter over users u for the audience JSON the expression <paramref name="a"/> gives (a column, a cast parameter).</summary>
    public static string Filter(string a)
    {
        return $"""
            u.status = 'active'
            AND (NOT {a} ? 'languages' OR {UserLanguage} IN (SELECT jsonb_array_elements_text({a} -> 'languages')))
            AND (NOT {a} ? 'sources' OR u.source IN (SELECT jsonb_array_elements_text({a} -> 'sources')))
            AND (NOT {a} ? 'subscribedAfter' OR u.subscribed_at >= ({a} ->> 'subscribedAfter')::timestamptz)
            AND (NOT {a} ? 'subscribedBefore' OR u.subscribed_at < ({a} ->> 'subscribedBefore')::timestamptz)
            AND (NOT {a} ? 'activeWithinDays'
                 OR coalesce(u.last_seen_at, u.subscribed_at, u.status_at) >= now() - make_interval(days => ({a} ->> 'activeWithinDays')::int))
            AND (coalesce(({a} ->> 'member')::boolean, false) = false
                 OR EXISTS (SELECT 1 FROM join_requests j WHERE j.user_id = u.user_id AND j.state = 'approved'))
            AND (NOT {a} ? 'list' OR EXISTS (SELECT 1 FROM audience_lists l WHERE l.name = {a} ->> 'list' AND l.user_id = u.user_id))
            """;
    }

    /// <summary>How many users the audience reaches now.</summary>
    public static async Task<int> CountAsync(Db db, Audience audience, CancellationToken cancellationToken) =>
        (int)await db.ScalarAsync<long>($"SELECT count(*) FROM users u WHERE {Filter(1)}", cancellationToken, Arg(audience.ToJson()));

    public string ToJson() => JsonSerializer.Serialize(this, AudienceJson.Default.Audience);

    public static Audience FromJson(string json) => JsonSerializer.Deserialize(json, AudienceJson.Default.Audience) ?? Everyone;

    /// <summary>What is wrong with the audience, or null when it may be used.</summary>
    public string? Problem()
    {
        if (Languages is { } languages && (languages.Length is 0 or > 20 || languages.Any(l => !LanguagePattern().IsMatch(l))))
        {
            return "audience.languages must be 1 to 20 language codes (2 to 8 lowercase letters, e.g. \"ru\")";
        }

        if (Sources is { } sources && (sources.Length is 0 or > 50 || sources.Any(s => string.IsNullOrEmpty(s) || s.Length > 64)))
        {
            return "audience.sources must be 1 to 50 deep-link sources of 1 to 64 characters";
        }

        if (ActiveWithinDays is < 1 or > 3650)
        {
            return "audience.activeWithinDays must be between 1 and 3650";
        }

        if (SubscribedAfter is { } after && SubscribedBefore is { } before && after >= before)
        {
            return "audience.subscribedAfter must be earlier than audience.subscribedBefore";
        }

        return List is not null && !ListNamePattern().IsMatch(List)
            ? "audience.list must be a list name of 1 to 64 letters, digits, '-' or '_'"
            : null;
    }

    /// <summary>A one-line description for the admin's menu (languages, sources, dates, activity, membership, list).</summary>
    public string Describe(Texts texts, string language)
    {
        if (IsEveryone)
        {
            return texts.Get(language, "Broadcasts.audience_everyone");
        }

        var parts = new List<string>();
        if (Languages is { } languages)
        {
            parts.Add(texts.Format(language, "Broadcasts.audience_languages", ("languages", string.Join(", ", languages))));
        }

        if (Sources is { } sources)
        {
            parts.Add(texts.Format(language, "Broadcasts.audience_sources", ("sources", string.Join(", ", sources))));
        }

        if (SubscribedAfter is { } after)
        {
            parts.Add(texts.Format(language, "Broadcasts.audience_after", ("date", after.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture))));
        }

        if (SubscribedBefore is { } before)
        {
            parts.Add(texts.Format(language, "Broadcasts.audience_before", ("date", before.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture))));
        }

        if (ActiveWithinDays is { } days)
        {
            parts.Add(texts.Format(language, "Broadcasts.audience_active", ("days", days)));
        }

        if (Member is true)
        {
            parts.Add(texts.Get(language, "Broadcasts.audience_member"));
        }

        if (List is { } list)
        {
            parts.Add(texts.Format(language, "Broadcasts.audience_list", ("list", list)));
        }

        return string.Join("; ", parts);
    }

    /// <summary>
    /// Reads "/audience" arguments: <c>all</c>, or space-separated <c>lang=ru,en source=promo after=2026-01-01
    /// before=2026-06-01 active=30 member list=vip</c>. Returns null with <paramref name="problem"/> set when a part is
    /// not understood.
    /// </summary>
    public static Audience? Parse(string text, out string? problem)
    {
        problem = null;
        var audience = Everyone;
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (key, value) = part.IndexOf('=', StringComparison.Ordinal) is > 0 and var eq ? (part[..eq].ToLowerInvariant(), part[(eq + 1)..]) : (part.ToLowerInvariant(), "");
            switch (key)
            {
                case "all" or "everyone" when value.Length == 0:
                    audience = Everyone;
                    break;
                case "lang" or "language" or "languages" when value.Length > 0:
                    audience = audience with { Languages = value.ToLowerInvariant().Split(',', StringSplitOptions.RemoveEmptyEntries) };
                    break;
                case "source" or "sources" when value.Length > 0:
                    audience = audience with { Sources = value.Split(',', StringSplitOptions.RemoveEmptyEntries) };
                    break;
                case "after" when DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var after):
                    audience = audience with { SubscribedAfter = after };
                    break;
                case "before" when DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var before):
                    audience = audience with { SubscribedBefore = before };
                    break;
                case "active" when int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var days):
                    audience = audience with { ActiveWithinDays = days };
                    break;
                case "member" when value.Length == 0:
                    audience = audience with { Member = true };
                    break;
                case "list" when value.Length > 0:
                    audience = audience with { List = value };
                    break;
                default:
                    problem = part;
                    return null;
            }
        }

        if (audience.Problem() is { } wrong)
        {
            problem = wrong;
            return null;
        }

        return audience;
    }

    [GeneratedRegex("^[a-z]{2,8}$")]
    private static partial Regex LanguagePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    internal static partial Regex ListNamePattern();
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Audience))]
internal sealed partial class AudienceJson : JsonSerializerContext;
