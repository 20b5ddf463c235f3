using Microsoft.Extensions.Time.Testing;

namespace FakeTelegram.Tests.Infrastructure;

internal static class Fakes
{
    /// <summary>A fake on a free loopback port whose clock only moves when the test advances it.</summary>
    public static Task<FakeTelegramServer> StartAsync(FakeTimeProvider time, Func<FakeTelegramOptions, FakeTelegramOptions>? configure = null)
    {
        var options = new FakeTelegramOptions { TimeProvider = time };
        return FakeTelegramServer.StartAsync(configure?.Invoke(options) ?? options, TestContext.Current.CancellationToken);
    }

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    /// <summary>
    /// Moves fake time in steps until <paramref name="task"/> ends. The fake arms its timer a moment after the
    /// call is recorded, so a single jump could land before the timer exists; stepping cannot miss it.
    /// </summary>
    public static async Task<T> AdvanceUntilDone<T>(this FakeTimeProvider time, Task<T> task, TimeSpan step, int maxSteps = 200)
    {
        for (var i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            time.Advance(step);
            await Task.WhenAny(task, Task.Delay(20, TestContext.Current.CancellationToken));
        }

        Assert.True(task.IsCompleted, $"still running after {maxSteps} steps of {step}");
        return await task;
    }

    /// <summary>Waits (in real time, bounded) until a condition on the fake holds.</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
