using Bot.Outbox;
using Bot.Tests.Unit.Coordination;

namespace Bot.Tests.Unit.Outbox;

public sealed class SendLimiterTests
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(3);
    private readonly ManualClock time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly SendLimiter limiter;

    public SendLimiterTests() =>
        limiter = new SendLimiter(new SenderOptions { GlobalPerSecond = 30, PrivateChatPerSecond = 1, GroupPerMinute = 20, SafetyMarginMilliseconds = 5 }, time);

    [Fact]
    public void A_private_chat_gets_one_message_per_second_counted_from_the_previous_calls_completion()
    {
        var first = Assert.IsType<SendTicket>(limiter.TryAcquire(42));
        Assert.Null(limiter.TryAcquire(42));
        time.Advance(Latency);
        SendLimiter.Complete(first, time.GetUtcNow());

        time.Advance(TimeSpan.FromMilliseconds(1004));
        Assert.Null(limiter.TryAcquire(42));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(limiter.TryAcquire(42));
    }

    [Fact]
    public void A_groups_calls_made_by_the_previous_leader_count_until_their_minute_is_over()
    {
        const long group = -100123;
        // The previous leader sent 15 a while ago and 5 just now: this leader may send none until the oldest leaves.
        for (var i = 0; i < 15; i++)
        {
            limiter.Seed(group, time.GetUtcNow() - TimeSpan.FromSeconds(40));
        }

        for (var i = 0; i < 5; i++)
        {
            limiter.Seed(group, time.GetUtcNow());
        }

        Assert.Null(limiter.TryAcquire(group));
        Assert.NotNull(limiter.TryAcquire(-100999));
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(limiter.TryAcquire(group));
        time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.NotNull(limiter.TryAcquire(group));
    }

    [Fact]
    public void A_call_still_in_flight_holds_its_place_however_long_it_takes()
    {
        Assert.NotNull(limiter.TryAcquire(42));
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Null(limiter.TryAcquire(42));
        Assert.Equal(DateTimeOffset.MaxValue, limiter.NextAllowed(42));
    }

    [Fact]
    public void A_group_gets_twenty_messages_in_any_minute()
    {
        for (var i = 0; i < 20; i++)
        {
            var ticket = limiter.TryAcquire(-100);
            Assert.True(ticket is not null, $"message {i + 1}");
            time.Advance(Latency);
            SendLimiter.Complete(ticket, time.GetUtcNow());
            time.Advance(TimeSpan.FromMilliseconds(40));
        }

        Assert.Null(limiter.TryAcquire(-100));
        var firstDone = time.GetUtcNow() - TimeSpan.FromMilliseconds(20 * 43) + Latency;
        Assert.Equal(firstDone + TimeSpan.FromSeconds(60.005), limiter.NextAllowed(-100));
    }

    [Fact]
    public void All_chats_together_get_thirty_per_second()
    {
        var tickets = Enumerable.Range(1, 30).Select(chat => limiter.TryAcquire(chat)).ToList();
        Assert.All(tickets, Assert.NotNull);
        Assert.Null(limiter.TryAcquire(31));

        time.Advance(Latency);
        tickets.ForEach(t => SendLimiter.Complete(t!, time.GetUtcNow()));
        time.Advance(TimeSpan.FromMilliseconds(1005));
        Assert.NotNull(limiter.TryAcquire(31));
    }

    [Fact]
    public void Whatever_the_jitter_no_second_at_telegram_holds_more_than_thirty_and_the_rate_stays_near_thirty()
    {
        // Each call reaches Telegram somewhere between its start and its completion, chosen at random.
        var random = new Random(7);
        var inFlight = new List<(SendTicket Ticket, DateTimeOffset Arrives, DateTimeOffset Completes)>();
        var arrivals = new List<DateTimeOffset>();
        var end = time.GetUtcNow() + TimeSpan.FromSeconds(60);
        var chat = 0;
        while (time.GetUtcNow() < end)
        {
            foreach (var call in inFlight.Where(c => c.Completes <= time.GetUtcNow()).ToList())
            {
                SendLimiter.Complete(call.Ticket, call.Completes);
                inFlight.Remove(call);
            }

            while (limiter.TryAcquire(1 + (chat % 100)) is { } ticket)
            {
                chat++;
                var latency = TimeSpan.FromMilliseconds(random.Next(1, 40));
                var arrives = time.GetUtcNow() + latency * random.NextDouble();
                arrivals.Add(arrives);
                inFlight.Add((ticket, arrives, time.GetUtcNow() + latency));
            }

            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        arrivals.Sort();
        for (var i = 30; i < arrivals.Count; i++)
        {
            Assert.True(arrivals[i] - arrivals[i - 30] >= TimeSpan.FromSeconds(1), $"31 arrivals within {(arrivals[i] - arrivals[i - 30]).TotalMilliseconds} ms");
        }

        Assert.True(arrivals.Count >= 28 * 60, $"{arrivals.Count} calls in 60 s");
    }

    [Fact]
    public void Paid_calls_go_past_thirty_a_second_in_a_window_of_their_own()
    {
        var unpaid = Enumerable.Range(1, 30).Select(chat => limiter.TryAcquire(chat)).ToList();
        Assert.All(unpaid, Assert.NotNull);
        Assert.Null(limiter.TryAcquire(31));
        Assert.Equal(0, limiter.Capacity());

        // The 30/s window is full; paid calls to other chats still go, up to the paid limit's thousand.
        Assert.Equal(1000, limiter.Capacity(paid: true));
        var paid = Enumerable.Range(31, 970).Select(chat => limiter.TryAcquire(chat, paid: true)).ToList();
        Assert.All(paid, ticket => Assert.True(ticket is { Paid: true }));
        Assert.Equal(30, limiter.Capacity(paid: true));
        Assert.Null(limiter.TryAcquire(31));
    }

    [Fact]
    public void Unpaid_calls_stay_at_thirty_a_second_while_paid_ones_run()
    {
        var paid = Enumerable.Range(1, 500).Select(chat => limiter.TryAcquire(chat, paid: true)!).ToList();
        Assert.Equal(30, limiter.Capacity());
        var unpaid = Enumerable.Range(1001, 30).Select(chat => limiter.TryAcquire(chat)).ToList();
        Assert.All(unpaid, Assert.NotNull);
        Assert.Null(limiter.TryAcquire(1031));
        Assert.Equal(500, limiter.Capacity(paid: true));

        // The paid calls complete and leave their window; the unpaid window is still full until its own calls leave.
        time.Advance(Latency);
        paid.ForEach(t => SendLimiter.Complete(t, time.GetUtcNow()));
        time.Advance(TimeSpan.FromMilliseconds(1005));
        Assert.Equal(1000, limiter.Capacity(paid: true));
        Assert.Null(limiter.TryAcquire(1031));
        Assert.Equal(DateTimeOffset.MaxValue, limiter.NextAllowedOverall());
    }

    [Fact]
    public void A_paid_call_still_gets_one_message_per_second_in_a_private_chat()
    {
        var first = limiter.TryAcquire(42, paid: true)!;
        Assert.Null(limiter.TryAcquire(42, paid: true));
        Assert.Null(limiter.TryAcquire(42));
        time.Advance(Latency);
        SendLimiter.Complete(first, time.GetUtcNow());

        time.Advance(TimeSpan.FromMilliseconds(1004));
        Assert.Null(limiter.TryAcquire(42, paid: true));
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMilliseconds(1), limiter.NextAllowed(42, paid: true));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(limiter.TryAcquire(42, paid: true));
    }

    [Fact]
    public void A_group_gets_twenty_a_minute_paid_or_not()
    {
        for (var i = 0; i < 20; i++)
        {
            Assert.NotNull(limiter.TryAcquire(-100, paid: i % 2 == 0));
        }

        Assert.Null(limiter.TryAcquire(-100, paid: true));
        Assert.Null(limiter.TryAcquire(-100));
    }

    [Fact]
    public void The_paid_window_holds_its_own_limit_and_a_retry_after_pauses_it_too()
    {
        var small = new SendLimiter(new SenderOptions { GlobalPerSecond = 30, PaidPerSecond = 100, SafetyMarginMilliseconds = 5 }, time);
        var paid = Enumerable.Range(1, 100).Select(chat => small.TryAcquire(chat, paid: true)!).ToList();
        Assert.Null(small.TryAcquire(101, paid: true));
        Assert.Equal(DateTimeOffset.MaxValue, small.NextAllowedOverall(paid: true));
        Assert.NotNull(small.TryAcquire(101));

        time.Advance(Latency);
        SendLimiter.Complete(paid[0], time.GetUtcNow());
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMilliseconds(1005), small.NextAllowedOverall(paid: true));
        time.Advance(TimeSpan.FromMilliseconds(1005));
        Assert.Equal(1, small.Capacity(paid: true));

        // Telegram does not say which limit a 429 is about: paid calls wait too.
        small.Pause(5, TimeSpan.FromSeconds(2));
        Assert.Equal(0, small.Capacity(paid: true));
        Assert.Null(small.TryAcquire(102, paid: true));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(small.TryAcquire(102, paid: true));
    }

    [Fact]
    public void A_retry_after_pauses_the_chat_and_everything_else()
    {
        var ticket = limiter.TryAcquire(1)!;
        SendLimiter.Complete(ticket, time.GetUtcNow());
        limiter.Pause(1, TimeSpan.FromSeconds(5));

        Assert.Null(limiter.TryAcquire(2));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(limiter.TryAcquire(2));
        Assert.NotNull(limiter.TryAcquire(1));
    }

    [Fact]
    public void Capacity_is_what_the_overall_limit_has_left_and_none_while_paused()
    {
        Assert.Equal(30, limiter.Capacity());
        var tickets = Enumerable.Range(1, 12).Select(chat => limiter.TryAcquire(chat)!).ToList();
        Assert.Equal(18, limiter.Capacity());

        time.Advance(Latency);
        tickets.ForEach(t => SendLimiter.Complete(t, time.GetUtcNow()));
        time.Advance(TimeSpan.FromMilliseconds(1005));
        Assert.Equal(30, limiter.Capacity());

        limiter.Pause(5, TimeSpan.FromSeconds(2));
        Assert.Equal(0, limiter.Capacity());
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(2), limiter.NextAllowedOverall());
    }

    [Fact]
    public void The_overall_limit_frees_when_its_oldest_completed_call_leaves_the_window_and_not_before_a_call_completes()
    {
        var tickets = Enumerable.Range(1, 30).Select(chat => limiter.TryAcquire(chat)!).ToList();
        Assert.Equal(DateTimeOffset.MaxValue, limiter.NextAllowedOverall());

        time.Advance(Latency);
        SendLimiter.Complete(tickets[7], time.GetUtcNow());
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMilliseconds(1005), limiter.NextAllowedOverall());
    }

    [Fact]
    public void Calls_completed_out_of_order_each_leave_the_window_one_window_after_their_own_completion()
    {
        var tickets = Enumerable.Range(1, 30).Select(chat => limiter.TryAcquire(chat)!).ToList();
        var start = time.GetUtcNow();
        // Completions reported out of time order, once all three are over: the 200 ms one after the 300 ms one.
        time.Advance(TimeSpan.FromMilliseconds(300));
        SendLimiter.Complete(tickets[0], start + TimeSpan.FromMilliseconds(300));
        SendLimiter.Complete(tickets[1], start + TimeSpan.FromMilliseconds(200));
        SendLimiter.Complete(tickets[2], start + TimeSpan.FromMilliseconds(100));
        SendLimiter.Complete(tickets[2], start + TimeSpan.FromMilliseconds(5)); // a second report of one call changes nothing

        Assert.Equal(start + TimeSpan.FromMilliseconds(1105), limiter.NextAllowedOverall());
        time.Advance(TimeSpan.FromMilliseconds(905));
        Assert.Equal(2, limiter.Capacity());
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(3, limiter.Capacity());
    }

    [Fact]
    public void A_thousand_a_second_keeps_every_window_at_its_limit_over_a_minute_of_calls()
    {
        var fast = new SendLimiter(new SenderOptions { GlobalPerSecond = 1000, PrivateChatPerSecond = 1, GroupPerMinute = 20, SafetyMarginMilliseconds = 0 }, time);
        var starts = new List<DateTimeOffset>();
        var inFlight = new Queue<SendTicket>();
        for (var tick = 0; tick < 60_000; tick++)
        {
            // Every millisecond: calls started 2 ms ago complete, then as many start as the limiter allows (up to 3).
            while (inFlight.Count > 0 && inFlight.Count >= 4)
            {
                SendLimiter.Complete(inFlight.Dequeue(), time.GetUtcNow());
            }

            for (var n = 0; n < 3 && fast.Capacity() > 0; n++)
            {
                inFlight.Enqueue(fast.TryAcquire(tick * 3L + n + 1)!);
                starts.Add(time.GetUtcNow());
            }

            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // No second holds more than 1,000 starts, and the limit is used: close to 1,000 a second overall.
        var most = 0;
        for (int first = 0, last = 0; last < starts.Count; last++)
        {
            while (starts[last] - starts[first] >= TimeSpan.FromSeconds(1))
            {
                first++;
            }

            most = Math.Max(most, last - first + 1);
        }

        Assert.Equal(1000, most);
        Assert.InRange(starts.Count, 55_000, 60_000);
    }

    [Fact]
    public void Waiting_names_the_chats_that_may_not_be_sent_to_now_and_when_the_first_frees()
    {
        Assert.NotNull(limiter.TryAcquire(1)); // still in flight
        var done = limiter.TryAcquire(2)!;
        time.Advance(Latency);
        SendLimiter.Complete(done, time.GetUtcNow());
        var group = -100;
        for (var i = 0; i < 20; i++)
        {
            limiter.Seed(group, time.GetUtcNow() - TimeSpan.FromSeconds(30));
        }

        limiter.Pause(3, TimeSpan.FromMilliseconds(300));

        var waiting = limiter.Waiting(out var earliest);

        Assert.Equal([-100, 1, 2, 3], waiting.Order());
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMilliseconds(300), earliest);
        Assert.DoesNotContain(4L, waiting);
    }

    [Fact]
    public void Waiting_forgets_chats_whose_windows_are_empty_and_pauses_that_are_over()
    {
        var ticket = limiter.TryAcquire(1)!;
        SendLimiter.Complete(ticket, time.GetUtcNow());
        limiter.Pause(2, TimeSpan.FromMilliseconds(100));
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Empty(limiter.Waiting(out var earliest));
        Assert.Equal(DateTimeOffset.MaxValue, earliest);
        Assert.NotNull(limiter.TryAcquire(1));
        Assert.NotNull(limiter.TryAcquire(2));
    }

    [Theory]
    [InlineData(-60)]
    [InlineData(60)]
    public void A_step_of_the_wall_clock_mid_window_neither_lets_extra_calls_through_nor_holds_calls_back(int minutes)
    {
        // A private chat's second, a group's minute and the overall second are running when the wall clock steps.
        var calls = new List<SendTicket> { limiter.TryAcquire(42)! };
        calls.AddRange(Enumerable.Range(0, 20).Select(_ => limiter.TryAcquire(-100)!));
        time.Advance(Latency);
        calls.ForEach(call => SendLimiter.Complete(call, time.GetUtcNow()));
        time.Advance(TimeSpan.FromMilliseconds(500));
        time.StepWallClock(TimeSpan.FromMinutes(minutes));

        Assert.Null(limiter.TryAcquire(42));
        Assert.Null(limiter.TryAcquire(-100));
        Assert.Equal(9, limiter.Capacity());
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMilliseconds(505), limiter.NextAllowed(42));
        time.Advance(TimeSpan.FromMilliseconds(504));
        Assert.Null(limiter.TryAcquire(42));
        Assert.Equal(9, limiter.Capacity());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(30, limiter.Capacity());
        Assert.NotNull(limiter.TryAcquire(42));

        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(59), limiter.NextAllowed(-100));
        time.Advance(TimeSpan.FromSeconds(59) - TimeSpan.FromMilliseconds(1));
        Assert.Null(limiter.TryAcquire(-100));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(limiter.TryAcquire(-100));
    }

    [Theory]
    [InlineData(-60)]
    [InlineData(60)]
    public void A_completion_read_before_a_step_of_the_wall_clock_counts_from_when_it_is_reported(int minutes)
    {
        var ticket = limiter.TryAcquire(42)!;
        time.Advance(Latency);
        var completedAt = time.GetUtcNow();
        time.StepWallClock(TimeSpan.FromMinutes(minutes));
        // The sender's loop picks the outcome up a moment later: that moment stands in for the completion,
        // neither an hour early nor an hour late.
        time.Advance(TimeSpan.FromMilliseconds(1));
        SendLimiter.Complete(ticket, completedAt);

        time.Advance(TimeSpan.FromMilliseconds(1004));
        Assert.Null(limiter.TryAcquire(42));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(limiter.TryAcquire(42));
    }

    [Fact]
    public void Completions_given_as_timestamps_and_seeds_given_as_ages_do_not_read_the_wall_clock()
    {
        const long group = -100123;
        for (var i = 0; i < 20; i++)
        {
            limiter.Seed(group, TimeSpan.FromSeconds(40));
        }

        var ticket = limiter.TryAcquire(42)!;
        time.Advance(Latency);
        var completed = time.GetTimestamp();
        time.StepWallClock(TimeSpan.FromHours(-1));
        time.Advance(TimeSpan.FromMilliseconds(7));
        SendLimiter.Complete(ticket, completed);

        time.Advance(TimeSpan.FromMilliseconds(997));
        Assert.Null(limiter.TryAcquire(42));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(limiter.TryAcquire(42));

        Assert.Null(limiter.TryAcquire(group));
        time.StepWallClock(TimeSpan.FromHours(3));
        time.Advance(TimeSpan.FromSeconds(20.005) - TimeSpan.FromMilliseconds(1008) - TimeSpan.FromMilliseconds(1));
        Assert.Null(limiter.TryAcquire(group));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.NotNull(limiter.TryAcquire(group));
    }
}
