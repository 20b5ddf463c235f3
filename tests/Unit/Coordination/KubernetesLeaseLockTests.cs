using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Bot.Coordination;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bot.Tests.Unit.Coordination;

/// <summary>
/// The Lease lock against a fake API server, on a clock that moves only when the test says so. With the
/// default 2 s retry the lease lasts 15 s, the leader gives up 10 s after its last successful renewal, and
/// each call may take 5 s. A follower takes over 15 s after it last saw the Lease change, so a test that
/// expects a takeover lets the follower look at the Lease first, as its retry loop would.
/// </summary>
public sealed class KubernetesLeaseLockTests : IAsyncLifetime
{
    private const string LeaseName = "bot-leader";
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan RenewDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    private readonly ManualClock clock = new(T0);
    private readonly List<KubernetesLeaseLock> replicas = [];
    private FakeLeaseApi api = null!;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => api = await FakeLeaseApi.StartAsync();

    public async ValueTask DisposeAsync()
    {
        api.Fault = ApiFault.None;
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        await api.DisposeAsync();
    }

    [Fact]
    public async Task The_first_replica_creates_the_lease_and_holds_it()
    {
        var a = Replica("bot-a");

        Assert.True(await a.TryAcquireAsync(Cancel));

        Assert.Equal(["GET bot-leader", "POST bot-leader"], api.Calls);
        var lease = api.Lease(LeaseName)!;
        Assert.Equal(FakeLeaseApi.Namespace, lease.Metadata.NamespaceProperty);
        Assert.Equal("bot-a", lease.Spec.HolderIdentity);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(T0.UtcDateTime, lease.Spec.AcquireTime);
        Assert.Equal(T0.UtcDateTime, lease.Spec.RenewTime);
        Assert.Equal(0, lease.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task A_second_replica_cannot_take_the_lease_while_the_first_renews_it()
    {
        var a = Replica("bot-a");
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));
        using var stop = new CancellationTokenSource();
        var leading = a.WaitUntilLostAsync(stop.Token);

        // 20 s in all, longer than the lease: only the renewals keep it.
        for (var round = 1; round <= 10; round++)
        {
            var renewal = T0 + round * Retry;
            await clock.AdvanceToAsync(renewal);
            await api.WaitForLeaseAsync(LeaseName, lease => lease.Spec.RenewTime == renewal.UtcDateTime);

            Assert.False(await b.TryAcquireAsync(Cancel));
            Assert.False(leading.IsCompleted);
        }

        var held = api.Lease(LeaseName)!;
        Assert.Equal("bot-a", held.Spec.HolderIdentity);
        Assert.Equal(T0.UtcDateTime, held.Spec.AcquireTime);
        Assert.Equal(0, held.Spec.LeaseTransitions);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leading);
    }

    [Fact]
    public async Task A_second_replica_takes_over_once_the_first_stops_renewing_and_the_lease_runs_out()
    {
        var a = Replica("bot-a");
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));
        Assert.False(await b.TryAcquireAsync(Cancel));

        clock.Advance(LeaseDuration - TimeSpan.FromMilliseconds(1));
        Assert.False(await b.TryAcquireAsync(Cancel));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await b.TryAcquireAsync(Cancel));

        var lease = api.Lease(LeaseName)!;
        Assert.Equal("bot-b", lease.Spec.HolderIdentity);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.Equal((T0 + LeaseDuration).UtcDateTime, lease.Spec.AcquireTime);
        Assert.Equal((T0 + LeaseDuration).UtcDateTime, lease.Spec.RenewTime);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task A_released_lease_is_taken_over_at_once()
    {
        var a = Replica("bot-a");
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));

        await a.ReleaseAsync();

        var released = api.Lease(LeaseName)!;
        Assert.Null(released.Spec.HolderIdentity);
        Assert.True(released.Spec.RenewTime!.Value + LeaseDuration <= T0.UtcDateTime, "renewTime is a full lease in the past");
        Assert.Equal(15, released.Spec.LeaseDurationSeconds);
        Assert.Equal(0, released.Spec.LeaseTransitions);

        Assert.True(await b.TryAcquireAsync(Cancel));
        var taken = api.Lease(LeaseName)!;
        Assert.Equal("bot-b", taken.Spec.HolderIdentity);
        Assert.Equal(T0.UtcDateTime, taken.Spec.AcquireTime);
        Assert.Equal(1, taken.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task A_replica_that_finds_the_lease_in_its_own_name_takes_it_back_without_a_transition()
    {
        // The answer to its last write was lost, or the pod restarted under the same name: nobody else held it.
        Assert.True(await Replica("bot-a").TryAcquireAsync(Cancel));
        clock.Advance(TimeSpan.FromSeconds(7));

        Assert.True(await Replica("bot-a").TryAcquireAsync(Cancel));

        var lease = api.Lease(LeaseName)!;
        Assert.Equal("bot-a", lease.Spec.HolderIdentity);
        Assert.Equal(T0.UtcDateTime, lease.Spec.AcquireTime);
        Assert.Equal((T0 + TimeSpan.FromSeconds(7)).UtcDateTime, lease.Spec.RenewTime);
        Assert.Equal(0, lease.Spec.LeaseTransitions);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Of_two_replicas_racing_for_a_free_lease_exactly_one_wins(bool leaseExists)
    {
        var b = Replica("bot-b");
        var c = Replica("bot-c");
        if (leaseExists)
        {
            Assert.True(await Replica("bot-a").TryAcquireAsync(Cancel));
            Assert.False(await b.TryAcquireAsync(Cancel));
            Assert.False(await c.TryAcquireAsync(Cancel));
            clock.Advance(LeaseDuration);
        }

        // Both read the same version (or both see none), so both write: the API server takes one write.
        api.HoldReads(2);
        var results = await Task.WhenAll(b.TryAcquireAsync(Cancel), c.TryAcquireAsync(Cancel));

        Assert.Single(results, won => won);
        var winner = results[0] ? "bot-b" : "bot-c";
        var lease = api.Lease(LeaseName)!;
        Assert.Equal(winner, lease.Spec.HolderIdentity);
        Assert.Equal(leaseExists ? 1 : 0, lease.Spec.LeaseTransitions);
        Assert.Equal(2, api.Calls.Count(call => call.StartsWith(leaseExists ? "PUT" : "POST", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_leader_whose_renewals_fail_stops_leading_before_anyone_may_take_over()
    {
        var a = Replica("bot-a");
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);
        Assert.False(await b.TryAcquireAsync(Cancel));

        api.Fault = ApiFault.Unavailable;
        for (var round = 1; round <= 5; round++)
        {
            Assert.False(leading.IsCompleted, $"still leading at +{(round - 1) * 2} s");
            await clock.AdvanceToAsync(T0 + round * Retry);
        }

        await leading.WaitAsync(Settle, Cancel);
        Assert.Equal(T0 + RenewDeadline, clock.GetUtcNow());

        // The lease itself still runs for 5 s: nobody else leads while the old leader might.
        api.Fault = ApiFault.None;
        Assert.False(await b.TryAcquireAsync(Cancel));
        clock.Advance(LeaseDuration - RenewDeadline);
        Assert.True(await b.TryAcquireAsync(Cancel));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(-10)]
    public async Task Whatever_the_holders_wall_clock_says_a_follower_does_not_take_over_while_the_holder_renews(int holderAheadSeconds)
    {
        var skew = TimeSpan.FromSeconds(holderAheadSeconds);
        var a = Replica("bot-a", time: clock.OtherHost(skew));
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));
        using var stop = new CancellationTokenSource();
        var leading = a.WaitUntilLostAsync(stop.Token);
        Assert.False(await b.TryAcquireAsync(Cancel));

        // 30 s, twice the lease. The holder's renewals at +2, +4 and +6 s fail (it cannot reach the API server,
        // the follower can), the one at +8 s succeeds. A renewTime 10 s behind reads as expired from +5 s on.
        api.SetFault(Token("bot-a"), ApiFault.Unavailable);
        for (var round = 1; round <= 15; round++)
        {
            var renewal = T0 + round * Retry;
            // The holder's delay, not the timeout of its renewal at +8 s, which falls due at +10 s too: advancing on
            // that before the holder armed its delay left the next renewal at +12 s (one .ci/run under load).
            await clock.AdvanceToAsync(renewal, delaysOnly: true);
            if (round <= 3)
            {
                await WaitForRenewalsAsync(round);
            }
            else
            {
                await api.WaitForLeaseAsync(LeaseName, lease => lease.Spec.RenewTime == (renewal + skew).UtcDateTime);
            }

            if (round == 3)
            {
                api.SetFault(Token("bot-a"), ApiFault.None);
            }

            Assert.False(await b.TryAcquireAsync(Cancel), $"taken over at +{round * Retry.TotalSeconds} s");
            Assert.False(leading.IsCompleted);
        }

        var held = api.Lease(LeaseName)!;
        Assert.Equal("bot-a", held.Spec.HolderIdentity);
        Assert.Equal(0, held.Spec.LeaseTransitions);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leading);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(-10)]
    public async Task A_holder_that_stops_renewing_is_taken_over_one_lease_after_the_follower_last_saw_the_lease_change(int holderAheadSeconds)
    {
        var skew = TimeSpan.FromSeconds(holderAheadSeconds);
        var a = Replica("bot-a", time: clock.OtherHost(skew));
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);
        Assert.False(await b.TryAcquireAsync(Cancel));
        for (var round = 1; round <= 2; round++)
        {
            var renewal = T0 + round * Retry;
            await clock.AdvanceToAsync(renewal);
            await api.WaitForLeaseAsync(LeaseName, lease => lease.Spec.RenewTime == (renewal + skew).UtcDateTime);
            Assert.False(await b.TryAcquireAsync(Cancel));
        }

        // The follower last saw a change at +4 s. The holder, cut off, fails at +6 to +12 s and steps down at +14 s.
        api.SetFault(Token("bot-a"), ApiFault.Unavailable);
        for (var round = 3; round <= 7; round++)
        {
            await clock.AdvanceToAsync(T0 + round * Retry);
            Assert.False(await b.TryAcquireAsync(Cancel), $"taken over at +{round * Retry.TotalSeconds} s");
        }

        await leading.WaitAsync(Settle, Cancel);
        Assert.Equal(T0 + TimeSpan.FromSeconds(14), clock.Now);
        var lastChange = T0 + 2 * Retry;
        clock.Advance(lastChange + LeaseDuration - TimeSpan.FromMilliseconds(1) - clock.Now);
        Assert.False(await b.TryAcquireAsync(Cancel));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await b.TryAcquireAsync(Cancel));

        var lease = api.Lease(LeaseName)!;
        Assert.Equal("bot-b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task Steps_of_either_wall_clock_change_neither_who_leads_nor_when_the_follower_takes_over()
    {
        var holderClock = clock.OtherHost(TimeSpan.Zero);
        var a = Replica("bot-a", time: holderClock);
        var b = Replica("bot-b");
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);
        Assert.False(await b.TryAcquireAsync(Cancel));

        // The follower's clock jumps an hour ahead, the holder's two hours back, the follower's three back: by the
        // follower's wall clock the holder's renewTime is an hour stale, then three hours stale, then current.
        TimeSpan[] followerSteps = [TimeSpan.FromHours(1), TimeSpan.Zero, TimeSpan.FromHours(-3)];
        TimeSpan[] holderSteps = [TimeSpan.Zero, TimeSpan.FromHours(-2), TimeSpan.Zero];
        for (var round = 1; round <= 3; round++)
        {
            clock.StepWallClock(followerSteps[round - 1]);
            holderClock.StepWallClock(holderSteps[round - 1]);
            await clock.AdvanceToAsync(T0 + round * Retry);
            var written = holderClock.GetUtcNow().UtcDateTime;
            await api.WaitForLeaseAsync(LeaseName, lease => lease.Spec.RenewTime == written);
            Assert.False(await b.TryAcquireAsync(Cancel), $"taken over at +{round * Retry.TotalSeconds} s");
        }

        // Cut off after its renewal at +6 s, the holder steps down at +16 s on its own clock although its wall
        // clock jumps a day ahead on the way; the follower takes over at +21 s, whatever its own wall clock does.
        api.SetFault(Token("bot-a"), ApiFault.Unavailable);
        for (var round = 4; round <= 8; round++)
        {
            holderClock.StepWallClock(round == 5 ? TimeSpan.FromDays(1) : TimeSpan.Zero);
            clock.StepWallClock(round == 6 ? TimeSpan.FromHours(5) : TimeSpan.Zero);
            await clock.AdvanceToAsync(T0 + round * Retry);
            Assert.False(await b.TryAcquireAsync(Cancel), $"taken over at +{round * Retry.TotalSeconds} s");
        }

        await leading.WaitAsync(Settle, Cancel);
        Assert.Equal(T0 + TimeSpan.FromSeconds(16), clock.Now);
        clock.StepWallClock(TimeSpan.FromHours(-7));
        clock.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.False(await b.TryAcquireAsync(Cancel));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await b.TryAcquireAsync(Cancel));
        Assert.Equal(clock.GetUtcNow().UtcDateTime, api.Lease(LeaseName)!.Spec.AcquireTime);
    }

    [Fact]
    public async Task A_follower_that_has_never_seen_the_lease_waits_a_full_lease_before_taking_over_even_a_stale_one()
    {
        // bot-a crashed an hour ago without releasing; bot-b starts now. The renewTime an hour old may come from a
        // wall clock that is an hour slow on a holder that is alive, so only a lease without a change counts.
        Assert.True(await Replica("bot-a").TryAcquireAsync(Cancel));
        clock.Advance(TimeSpan.FromHours(1));
        var b = Replica("bot-b");

        Assert.False(await b.TryAcquireAsync(Cancel));
        clock.Advance(LeaseDuration - TimeSpan.FromMilliseconds(1));
        Assert.False(await b.TryAcquireAsync(Cancel));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await b.TryAcquireAsync(Cancel));

        var lease = api.Lease(LeaseName)!;
        Assert.Equal("bot-b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task A_leader_whose_renewals_hang_stops_leading_before_anyone_may_take_over()
    {
        var a = Replica("bot-a");
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);

        api.Fault = ApiFault.Stall;
        await clock.AdvanceToAsync(T0 + Retry);
        await api.WaitForStalledAsync(1);
        // The first renewal gives up after the 5 s call timeout, the next one when the 10 s deadline is reached.
        await clock.AdvanceToAsync(T0 + Retry + TimeSpan.FromSeconds(5));
        await clock.AdvanceToAsync(T0 + TimeSpan.FromSeconds(9));
        Assert.False(leading.IsCompleted);
        await clock.AdvanceToAsync(T0 + RenewDeadline);

        await leading.WaitAsync(Settle, Cancel);
        Assert.Equal(T0 + RenewDeadline, clock.GetUtcNow());
    }

    [Fact]
    public async Task A_leader_that_finds_another_holder_stops_leading_at_its_next_renewal()
    {
        var a = Replica("bot-a");
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);

        api.Edit(LeaseName, lease => lease["spec"]!["holderIdentity"] = "bot-z");
        await clock.AdvanceToAsync(T0 + Retry);

        await leading.WaitAsync(Settle, Cancel);
        Assert.Equal(T0 + Retry, clock.GetUtcNow());
        await a.ReleaseAsync();
        Assert.Equal("bot-z", api.Lease(LeaseName)!.Spec.HolderIdentity);
        Assert.Equal(["GET", "POST", "PUT", "GET"], api.Calls.Select(call => call.Split(' ')[0]));
    }

    [Fact]
    public async Task Someone_else_editing_the_lease_does_not_cost_the_lead()
    {
        var a = Replica("bot-a");
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);

        api.Edit(LeaseName, lease =>
        {
            lease["metadata"]!["annotations"] = new JsonObject { ["note"] = "kubectl annotate" };
            lease["metadata"]!["labels"] = new JsonObject { ["team"] = "platform" };
        });
        await clock.AdvanceToAsync(T0 + Retry);
        await clock.AdvanceToAsync(T0 + 2 * Retry);

        var lease = await api.WaitForLeaseAsync(LeaseName, lease => lease.Spec.RenewTime == (T0 + 2 * Retry).UtcDateTime);
        Assert.Equal("bot-a", lease.Spec.HolderIdentity);
        // Fields the lock does not name are written back as they were read.
        Assert.Equal("kubectl annotate", lease.Metadata.Annotations["note"]);
        Assert.Equal("platform", lease.Metadata.Labels["team"]);
        Assert.False(leading.IsCompleted);
    }

    [Fact]
    public async Task A_follower_that_cannot_reach_the_api_stays_a_follower()
    {
        var a = Replica("bot-a");

        api.Fault = ApiFault.Unavailable;
        Assert.False(await a.TryAcquireAsync(Cancel));

        api.Fault = ApiFault.Stall;
        var attempt = a.TryAcquireAsync(Cancel);
        await api.WaitForStalledAsync(1);
        await clock.AdvanceToAsync(T0 + TimeSpan.FromSeconds(5));
        Assert.False(await attempt.WaitAsync(Settle, Cancel));
        Assert.Null(api.Lease(LeaseName));
    }

    [Fact]
    public async Task The_token_is_sent_to_the_api_and_never_logged()
    {
        const string token = "SENTINEL-token-0123456789";
        var logs = new ListLogger();
        var a = Replica("bot-a", token, logs);

        api.Fault = ApiFault.Unavailable;
        Assert.False(await a.TryAcquireAsync(Cancel));
        api.Fault = ApiFault.None;
        Assert.True(await a.TryAcquireAsync(Cancel));
        var leading = a.WaitUntilLostAsync(Cancel);
        api.Fault = ApiFault.Unavailable;
        for (var round = 1; round <= 5; round++)
        {
            await clock.AdvanceToAsync(T0 + round * Retry);
        }

        await leading.WaitAsync(Settle, Cancel);

        Assert.All(api.Authorizations, header => Assert.Equal("Bearer " + token, header));
        Assert.Contains(logs.Lines, line => line.Contains("HTTP 503", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains("SENTINEL", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0.1, 15)]
    [InlineData(2, 15)]
    [InlineData(5, 15)]
    [InlineData(10, 30)]
    [InlineData(60, 180)]
    public void The_lease_lasts_at_least_three_renewals(double retrySeconds, int expected) =>
        Assert.Equal(expected, KubernetesLeaseLock.LeaseDurationSeconds(new CoordinationOptions { RetrySeconds = retrySeconds }));

    [Fact]
    public void The_namespace_comes_from_the_downward_api_else_from_the_service_account()
    {
        var file = Path.Combine(Path.GetTempPath(), $"namespace-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(file, "bots-prod\n");

            Assert.Equal("bots-staging", KubernetesLeaseLock.ResolveNamespace("bots-staging", file));
            Assert.Equal("bots-prod", KubernetesLeaseLock.ResolveNamespace(null, file));
            Assert.Throws<InvalidOperationException>(() => KubernetesLeaseLock.ResolveNamespace("", file + ".missing"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_identity_is_the_pod_name_else_host_and_process()
    {
        Assert.Equal("bot-7d9f-x2", KubernetesLeaseLock.ResolveIdentity("bot-7d9f-x2"));
        Assert.Equal($"{Environment.MachineName}-{Environment.ProcessId}", KubernetesLeaseLock.ResolveIdentity(null));
    }

    [Theory]
    [InlineData("2026-12-03T10:20:32.123456Z", "2026-12-03T10:20:32.1234560Z")]
    [InlineData("2026-12-03T10:20:32Z", "2026-12-03T10:20:32.0000000Z")]
    [InlineData("2026-12-03T11:20:32.5+01:00", "2026-12-03T10:20:32.5000000Z")]
    public void Lease_times_are_read_as_utc_and_written_as_microtime(string written, string expected)
    {
        var spec = System.Text.Json.JsonSerializer.Deserialize(
            $$$"""{"metadata":{"name":"x"},"spec":{"renewTime":"{{{written}}}"}}""", LeaseJson.Default.Lease)!.Spec!;
        Assert.Equal(DateTimeKind.Utc, spec.RenewTime!.Value.Kind);
        Assert.Equal(expected, spec.RenewTime.Value.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        var json = System.Text.Json.JsonSerializer.Serialize(
            new Lease { Spec = new LeaseSpec { RenewTime = new DateTime(2026, 12, 3, 10, 20, 32, DateTimeKind.Utc).AddTicks(1234567) } }, LeaseJson.Default.Lease);
        Assert.Equal("""{"spec":{"renewTime":"2026-12-03T10:20:32.123456Z"}}""", json);
    }

    /// <summary>A replica with its own token (<see cref="Token"/>), on the test's clock unless given another machine's.</summary>
    private KubernetesLeaseLock Replica(
        string identity, string? token = null, ILogger<KubernetesLeaseLock>? logger = null, TimeProvider? time = null)
    {
        var bearer = token ?? Token(identity);
        var client = new LeaseApi(api.Url, () => bearer, new SocketsHttpHandler());
        var options = new CoordinationOptions { LeaseName = LeaseName, RetrySeconds = Retry.TotalSeconds };
        var replica = new KubernetesLeaseLock(
            client, FakeLeaseApi.Namespace, identity, options, time ?? clock, logger ?? NullLogger<KubernetesLeaseLock>.Instance);
        replicas.Add(replica);
        return replica;
    }

    private static string Token(string identity) => $"token-{identity}";

    /// <summary>Waits (in real time) until the holder has tried <paramref name="count"/> renewals, failed ones included.</summary>
    private async Task WaitForRenewalsAsync(int count)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (api.Calls.Count(call => call == $"PUT {LeaseName}") < count)
        {
            if (waited.Elapsed > Settle)
            {
                throw new TimeoutException($"{count} renewals expected; calls: {string.Join(", ", api.Calls)}");
            }

            await Task.Delay(2, Cancel);
        }
    }

    private sealed class ListLogger : ILogger<KubernetesLeaseLock>
    {
        private readonly ConcurrentQueue<string> lines = new();

        public IReadOnlyCollection<string> Lines => lines;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
    }
}
