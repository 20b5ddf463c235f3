using System.Globalization;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.Broadcasts;

/// <summary>The status message's text: state, counts, rate and the time left, in the admin's language.</summary>
public static class BroadcastStatus
{
    public static string Starting(Texts texts, string language, long id) =>
        Format(texts, language, id, "starting", new Progress(0, 0, 0, 0), TimeSpan.Zero);

    public static string Format(Texts texts, string language, long id, string state, Progress progress, TimeSpan elapsed)
    {
        var rate = elapsed.TotalSeconds >= 1 ? progress.Settled / elapsed.TotalSeconds : 0;
        var left = progress.Total - progress.Settled;
        var going = BroadcastState.IsGoingOut(state);
        var eta = going && rate > 0 && left > 0
            ? TimeSpan.FromSeconds(Math.Ceiling(left / rate)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : going || state == BroadcastState.Paused ? texts.Get(language, "Broadcasts.eta_unknown") : "0:00:00";
        return texts.Format(language, "Broadcasts.status",
            ("id", id), ("state", texts.Get(language, $"Broadcasts.state_{state}")),
            ("sent", progress.Sent), ("total", progress.Total), ("failed", progress.Failed), ("blocked", progress.Blocked),
            ("rate", rate.ToString("0.0", CultureInfo.InvariantCulture)), ("eta", eta));
    }

    /// <summary>Lines under the counts: why it is paused, and how its edit or withdraw job stands.</summary>
    public static string Details(Texts texts, string language, ActiveBroadcast broadcast)
    {
        var details = "";
        if (broadcast.State == BroadcastState.Paused)
        {
            details += "\n" + texts.Get(language, broadcast.PausedReason == "budget" ? "Broadcasts.paused_budget" : "Broadcasts.paused_admin");
        }

        if (broadcast.Job is { } job)
        {
            details += "\n" + texts.Format(language, $"Broadcasts.job_{job}",
                ("done", broadcast.JobDone), ("failed", broadcast.JobFailed),
                ("state", texts.Get(language, broadcast.JobState == "running" ? "Broadcasts.job_running" : "Broadcasts.job_finished")));
        }

        return details;
    }

    /// <summary>The status message's buttons: pause or resume and cancel while it goes out, withdraw once it has ended.</summary>
    public static InlineKeyboardMarkup? Buttons(Texts texts, string language, ActiveBroadcast broadcast)
    {
        string Data(string action) => $"bc:{broadcast.Id.ToString(CultureInfo.InvariantCulture)}:{action}";
        InlineKeyboardButton Button(string key, string action) => InlineKeyboardButton.WithCallbackData(texts.Get(language, key), Data(action));
        return broadcast.State switch
        {
            BroadcastState.Sending => new InlineKeyboardMarkup([[Button("Broadcasts.button_pause", "pause"), Button("Broadcasts.button_cancel", "x")]]),
            BroadcastState.Paused => new InlineKeyboardMarkup([[Button("Broadcasts.button_resume", "resume"), Button("Broadcasts.button_cancel", "x")]]),
            BroadcastState.Done or BroadcastState.Cancelled when broadcast.JobState != "running" =>
                new InlineKeyboardMarkup([[Button("Broadcasts.button_withdraw", "wd")]]),
            _ => null,
        };
    }

    /// <summary>Recipients so far (or expected, while still expanding) and how their messages ended.</summary>
    public readonly record struct Progress(int Total, int Sent, int Failed, int Blocked)
    {
        public int Settled => Sent + Failed + Blocked;
    }
}
