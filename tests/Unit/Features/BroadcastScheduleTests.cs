using Bot.Features.Broadcasts;

namespace Bot.Tests.Unit.Features;

public sealed class BroadcastScheduleTests
{
    [Fact]
    public void A_schedule_is_once_after_a_delay_at_a_local_time_or_daily_or_weekly()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), BroadcastSchedule.Parse("in 5s", "UTC")!.Delay);
        Assert.Equal(TimeSpan.FromMinutes(10), BroadcastSchedule.Parse("in 10m", "UTC")!.Delay);
        var local = BroadcastSchedule.Parse("2026-12-24 18:00", "Europe/Berlin")!;
        Assert.Equal(new DateTime(2026, 12, 24, 18, 0, 0, DateTimeKind.Unspecified), local.Local);
        Assert.Equal("Europe/Berlin", local.TimeZone);
        var daily = BroadcastSchedule.Parse("daily 09:00 skip", "UTC")!;
        Assert.Equal(("daily", new TimeOnly(9, 0), (short?)null, "skip"), (daily.Recurrence, daily.RecurAt!.Value, daily.RecurWeekday, daily.IfMissed));
        var weekly = BroadcastSchedule.Parse("weekly Monday 7:30", "UTC")!;
        Assert.Equal(("weekly", new TimeOnly(7, 30), (short?)1, "send"), (weekly.Recurrence, weekly.RecurAt!.Value, weekly.RecurWeekday, weekly.IfMissed));
        Assert.Equal((short?)0, BroadcastSchedule.Parse("weekly sun 09:00", "UTC")!.RecurWeekday);
    }

    [Theory]
    [InlineData("")]
    [InlineData("tomorrow")]
    [InlineData("in 0s")]
    [InlineData("in 5x")]
    [InlineData("in 400d")]
    [InlineData("daily 25:00")]
    [InlineData("weekly funday 09:00")]
    [InlineData("weekly 7 09:00")]
    [InlineData("2026-13-01 10:00")]
    public void Anything_else_is_not_a_schedule(string text) => Assert.Null(BroadcastSchedule.Parse(text, "UTC"));
}
