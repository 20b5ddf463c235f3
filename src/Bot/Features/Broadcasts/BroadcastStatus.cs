using System.Globalization;

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
        var eta = state == "running" && rate > 0 && left > 0
            ? TimeSpan.FromSeconds(Math.Ceiling(left / rate)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : state == "running" ? texts.Get(language, "Broadcasts.eta_unknown") : "0:00:00";
        return texts.Format(language, "Broadcasts.status",
            ("id", id), ("state", texts.Get(language, $"Broadcasts.state_{state}")),
            ("sent", progress.Sent), ("total", progress.Total), ("failed", progress.Failed), ("blocked", progress.Blocked),
            ("rate", rate.ToString("0.0", CultureInfo.InvariantCulture)), ("eta", eta));
    }

    /// <summary>Recipients so far (or expected, while still expanding) and how their messages ended.</summary>
    public readonly record struct Progress(int Total, int Sent, int Failed, int Blocked)
    {
        public int Settled => Sent + Failed + Blocked;
    }
}
