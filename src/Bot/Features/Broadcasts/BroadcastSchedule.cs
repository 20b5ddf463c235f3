using System.Globalization;

namespace Bot.Features.Broadcasts;

/// <summary>
/// Reads the schedule admins write after /schedule ID: <c>in 90s|10m|2h|1d</c>, <c>2026-12-24 18:00[:00]</c> (in the
/// admin's time zone), <c>daily 09:00</c>, <c>weekly mon 09:00</c>; each optionally followed by <c>skip</c> (a time
/// missed while the bot was down is skipped instead of sent at once). The times themselves are computed by
/// PostgreSQL in the zone (broadcast_next_run), so a daylight-saving change moves the instant, not the local time.
/// </summary>
public static class BroadcastSchedule
{
    private static readonly string[] Days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    public static SchedulePlan? Parse(string text, string zone)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var ifMissed = "send";
        if (words.Count > 0 && words[^1].Equals("skip", StringComparison.OrdinalIgnoreCase))
        {
            ifMissed = "skip";
            words.RemoveAt(words.Count - 1);
        }

        switch (words.Count)
        {
            case 2 when words[0].Equals("in", StringComparison.OrdinalIgnoreCase) && TryDelay(words[1], out var delay):
                return new SchedulePlan(null, null, null, null, zone, ifMissed) { Delay = delay };
            case 2 when words[0].Equals("daily", StringComparison.OrdinalIgnoreCase) && TryTime(words[1], out var daily):
                return new SchedulePlan(null, "daily", daily, null, zone, ifMissed);
            case 3 when words[0].Equals("weekly", StringComparison.OrdinalIgnoreCase) && TryDay(words[1], out var day) && TryTime(words[2], out var weekly):
                return new SchedulePlan(null, "weekly", weekly, day, zone, ifMissed);
            case 2 when DateTime.TryParseExact($"{words[0]} {words[1]}", ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss"], CultureInfo.InvariantCulture,
                DateTimeStyles.None, out var local):
                return new SchedulePlan(null, null, null, null, zone, ifMissed) { Local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified) };
            default:
                return null;
        }
    }

    /// <summary>HH:MM (24 hours).</summary>
    public static bool TryTime(string text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, ["H:mm", "HH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    /// <summary>A weekday as sun…sat (or the full English name), or 0…6 with 0 = Sunday.</summary>
    public static bool TryDay(string text, out short day)
    {
        var lower = text.ToLowerInvariant();
        var index = Array.FindIndex(Days, d => lower == d || string.Equals(lower, Enum.GetName((DayOfWeek)Array.IndexOf(Days, d)), StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            day = (short)index;
            return true;
        }

        return short.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out day) && day <= 6;
    }

    private static bool TryDelay(string text, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (text.Length < 2 || !int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return false;
        }

        delay = char.ToLowerInvariant(text[^1]) switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => TimeSpan.Zero,
        };
        return delay > TimeSpan.Zero && delay <= TimeSpan.FromDays(366);
    }
}
