using System.Globalization;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.Broadcasts;

/// <summary>
/// A broadcast's menu in the admin's chat while it is a draft or scheduled: what will be sent, to whom (the count
/// now), when, with quiet hours and paid mode; the audience buttons, Send me a preview, Send now, Schedule, Cancel.
/// </summary>
public static class BroadcastMenu
{
    public static (string Text, InlineKeyboardMarkup? Markup) Render(Texts texts, string language, BroadcastView view, int count)
    {
        var id = view.Id.ToString(CultureInfo.InvariantCulture);
        var lines = new List<string>
        {
            texts.Format(language, "Broadcasts.menu_title", ("id", id), ("state", texts.Get(language, $"Broadcasts.state_{view.State}"))),
            texts.Format(language, "Broadcasts.menu_variants", ("variants", view.Languages.Length == 0 ? texts.Get(language, "Broadcasts.variant_other")
                : string.Join(", ", view.Languages.Select(l => l.Length == 0 ? texts.Get(language, "Broadcasts.variant_other") : l)))),
            texts.Format(language, "Broadcasts.menu_audience", ("audience", view.Audience.Describe(texts, language))),
            texts.Format(language, "Broadcasts.menu_count", ("count", count)),
        };
        if (view.Recurrence is { } recurrence)
        {
            var day = view.RecurWeekday is { } weekday ? ((DayOfWeek)weekday).ToString()[..3] + " " : "";
            lines.Add(texts.Format(language, "Broadcasts.menu_recurring", ("every", texts.Get(language, $"Broadcasts.every_{recurrence}")),
                ("at", day + view.RecurAt), ("zone", view.TimeZone), ("next", Local(view.ScheduledAt, view.TimeZone))));
        }
        else if (view.ScheduledAt is { } at)
        {
            lines.Add(texts.Format(language, "Broadcasts.menu_scheduled", ("at", Local(at, view.TimeZone)), ("zone", view.TimeZone)));
        }

        if (view.QuietStart is { } quietStart)
        {
            lines.Add(texts.Format(language, "Broadcasts.menu_quiet", ("from", quietStart), ("to", view.QuietEnd)));
        }

        if (view.AllowPaid)
        {
            lines.Add(texts.Format(language, "Broadcasts.menu_paid", ("budget", view.Budget)));
        }

        if (view.State == BroadcastState.Draft)
        {
            lines.Add(texts.Format(language, "Broadcasts.menu_help", ("id", id)));
        }

        return (string.Join("\n", lines), Buttons(texts, language, view));
    }

    private static InlineKeyboardMarkup? Buttons(Texts texts, string language, BroadcastView view)
    {
        string Data(string action) => $"bc:{view.Id.ToString(CultureInfo.InvariantCulture)}:{action}";
        string Mark(bool on, string key) => (on ? "✓ " : "") + texts.Get(language, key);
        switch (view.State)
        {
            case BroadcastState.Draft:
                var audience = view.Audience;
                var targeting = new List<InlineKeyboardButton> { InlineKeyboardButton.WithCallbackData(Mark(audience.IsEveryone, "Broadcasts.button_everyone"), Data("all")) };
                targeting.AddRange(Texts.Languages.Select(l =>
                    InlineKeyboardButton.WithCallbackData((audience.Languages?.Contains(l) == true ? "✓ " : "") + l, Data("l:" + l))));
                return new InlineKeyboardMarkup(
                [
                    targeting,
                    [
                        InlineKeyboardButton.WithCallbackData(Mark(audience.ActiveWithinDays is not null, "Broadcasts.button_active"), Data("act")),
                        InlineKeyboardButton.WithCallbackData(Mark(audience.Member is true, "Broadcasts.button_member"), Data("mem")),
                    ],
                    [InlineKeyboardButton.WithCallbackData(texts.Get(language, "Broadcasts.button_preview"), Data("pre"))],
                    [
                        InlineKeyboardButton.WithCallbackData(texts.Get(language, "Broadcasts.button_send"), Data("go")),
                        InlineKeyboardButton.WithCallbackData(texts.Get(language, "Broadcasts.button_schedule"), Data("sch")),
                        InlineKeyboardButton.WithCallbackData(texts.Get(language, "Broadcasts.button_cancel"), Data("x")),
                    ],
                ]);
            case BroadcastState.Scheduled:
                return new InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton.WithCallbackData(texts.Get(language, "Broadcasts.button_preview"), Data("pre"))],
                    [InlineKeyboardButton.WithCallbackData(texts.Get(language, "Broadcasts.button_cancel"), Data("x"))],
                ]);
            default:
                return null;
        }
    }

    private static string Local(DateTimeOffset? at, string zone)
    {
        if (at is not { } instant)
        {
            return "–";
        }

        try
        {
            return TimeZoneInfo.ConvertTime(instant, TimeZoneInfo.FindSystemTimeZoneById(zone)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            // A zone PostgreSQL knows but this machine's time zone data does not: shown in UTC.
            return instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        }
    }
}
