using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Bot.Coordination;

/// <summary>
/// Leadership as a <c>coordination.k8s.io/v1</c> Lease in the pod's own namespace. Every change is a replace
/// carrying the <c>resourceVersion</c> last read or written, so the API server's optimistic concurrency decides
/// races: of two replicas taking the same expired Lease (or creating a missing one), the second write gets
/// 409 Conflict and stays a follower.
/// <para>
/// The leader renews every <see cref="CoordinationOptions.RetrySeconds"/>. A follower never compares the
/// <c>renewTime</c> the leader wrote with its own wall clock: the two machines' clocks need not agree, and either
/// may step. As in client-go, it remembers when (on its own monotonic clock) it last saw the Lease change, and
/// takes the Lease only once <c>leaseDurationSeconds</c> have passed since then without a change. A follower that
/// has just started has seen no change yet and so waits a full lease from its first read, even for a Lease whose
/// <c>renewTime</c> is long past: that holder may be alive with a slow wall clock.
/// </para>
/// <para>
/// The leader stops leading after <see cref="RenewDeadline"/> without a successful renewal, measured on its own
/// monotonic clock from just before the write was sent, a third of the lease duration before any follower, which
/// saw that write only after it was applied, may take over. So it has stopped in time even when the renewals fail
/// silently (network, API server down, a stalled request); the third absorbs a difference in the rate the two
/// monotonic clocks run at, not in what they read. <c>renewTime</c> and <c>acquireTime</c> are still written, from
/// the wall clock, for <c>kubectl</c> and for people.
/// </para>
/// </summary>
public sealed partial class KubernetesLeaseLock : ILeaderLock
{
    private const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>The Kubernetes default (client-go, kube-controller-manager); longer only when renewals are rarer.</summary>
    private const int MinimumLeaseDurationSeconds = 15;

    private readonly LeaseApi client;
    private readonly string leaseName;
    private readonly string leaseNamespace;
    private readonly string identity;
    private readonly TimeSpan retry;
    private readonly int leaseDurationSeconds;
    private readonly TimeSpan leaseDuration;
    private readonly TimeSpan requestTimeout;
    private readonly TimeProvider time;
    private readonly ILogger<KubernetesLeaseLock> logger;

    /// <summary>The Lease as this replica last wrote it while holding it; null when it does not hold it.</summary>
    private Lease? held;

    /// <summary>
    /// <see cref="TimeProvider.GetTimestamp"/> just before the last successful write: the renew deadline runs on
    /// the monotonic clock, so that a step of the wall clock cannot stretch it.
    /// </summary>
    private long renewedAt;

    /// <summary>The Lease as this replica last saw it change while following; null before its first read.</summary>
    private Observation? observed;

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when <see cref="observed"/> was first seen.</summary>
    private long observedAt;

    /// <summary>In a pod: the service account's in-cluster configuration, identity and namespace from the Downward API.</summary>
    public KubernetesLeaseLock(IOptions<CoordinationOptions> options, TimeProvider time, ILogger<KubernetesLeaseLock> logger)
        : this(
            LeaseApi.InCluster(),
            ResolveNamespace(Environment.GetEnvironmentVariable("POD_NAMESPACE"), ServiceAccountNamespaceFile),
            ResolveIdentity(Environment.GetEnvironmentVariable("POD_NAME")),
            options.Value, time, logger)
    {
    }

    /// <summary>Against any API server, e.g. a fake one in tests.</summary>
    internal KubernetesLeaseLock(
        LeaseApi client, string leaseNamespace, string identity,
        CoordinationOptions options, TimeProvider time, ILogger<KubernetesLeaseLock> logger)
    {
        this.client = client;
        leaseName = options.LeaseName;
        this.leaseNamespace = leaseNamespace;
        this.identity = identity;
        retry = TimeSpan.FromSeconds(options.RetrySeconds);
        leaseDurationSeconds = LeaseDurationSeconds(options);
        leaseDuration = TimeSpan.FromSeconds(leaseDurationSeconds);
        // Bounded so that a stalled call cannot hold a follower's loop (or the shutdown's release) for long.
        requestTimeout = leaseDuration / 3;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>How long the leader keeps leading without a successful renewal: two thirds of the lease.</summary>
    internal TimeSpan RenewDeadline => leaseDuration - leaseDuration / 3;

    /// <summary>
    /// At least three renewal attempts fit in a lease, so one or two lost requests never cost the lead:
    /// 15 s for the default 2 s retry, three retries when they are rarer.
    /// </summary>
    internal static int LeaseDurationSeconds(CoordinationOptions options) =>
        Math.Max(MinimumLeaseDurationSeconds, (int)Math.Ceiling(3 * options.RetrySeconds));

    /// <summary><c>POD_NAMESPACE</c> (Downward API) first, the service account's namespace file otherwise.</summary>
    internal static string ResolveNamespace(string? podNamespace, string namespaceFile)
    {
        if (!string.IsNullOrWhiteSpace(podNamespace))
        {
            return podNamespace.Trim();
        }

        var fromFile = File.Exists(namespaceFile) ? File.ReadAllText(namespaceFile).Trim() : "";
        return fromFile.Length > 0
            ? fromFile
            : throw new InvalidOperationException($"The Lease's namespace is unknown: set POD_NAMESPACE or mount the service account ({namespaceFile})");
    }

    /// <summary><c>POD_NAME</c> (Downward API) names the holder in <c>kubectl get lease</c>; host and pid elsewhere.</summary>
    internal static string ResolveIdentity(string? podName) =>
        string.IsNullOrWhiteSpace(podName) ? $"{Environment.MachineName}-{Environment.ProcessId}" : podName.Trim();

    public async Task<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        held = null;
        using var timeout = new CancellationTokenSource(requestTimeout, time);
        using var link = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout);
        try
        {
            Lease current;
            try
            {
                current = await client.ReadAsync(leaseNamespace, leaseName, timeout.Token);
            }
            catch (KubernetesApiException exception) when (exception.Status == HttpStatusCode.NotFound)
            {
                var sentAt = time.GetTimestamp();
                var created = await client.CreateAsync(leaseNamespace, NewLease(time.GetUtcNow()), timeout.Token);
                return Took(created, sentAt);
            }

            var takenAt = time.GetTimestamp();
            Observe(current, takenAt);
            var spec = current.Spec ?? new LeaseSpec();
            if (HeldByAnother(spec))
            {
                return false;
            }

            var at = time.GetUtcNow();

            // Ours already (a write whose answer was lost, or a restart under the same pod name): keep the
            // acquire time and the transition count, as nobody else held it in between.
            var ours = spec.HolderIdentity == identity;
            var taken = current with
            {
                Spec = spec with
                {
                    HolderIdentity = identity,
                    LeaseDurationSeconds = leaseDurationSeconds,
                    AcquireTime = ours && spec.AcquireTime is not null ? spec.AcquireTime : at.UtcDateTime,
                    RenewTime = at.UtcDateTime,
                    LeaseTransitions = (spec.LeaseTransitions ?? 0) + (ours ? 0 : 1),
                },
            };
            var replaced = await client.ReplaceAsync(leaseNamespace, leaseName, taken, timeout.Token);
            return Took(replaced, takenAt);
        }
        catch (KubernetesApiException exception) when (exception.Status == HttpStatusCode.Conflict)
        {
            // Another replica wrote first (created it, or replaced the version we read).
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogAcquireFailed(logger, leaseNamespace, leaseName, "timed out");
            return false;
        }
        catch (Exception exception) when (IsApiFailure(exception))
        {
            LogAcquireFailed(logger, leaseNamespace, leaseName, Describe(exception));
            return false;
        }
    }

    public async Task WaitUntilLostAsync(CancellationToken cancellationToken)
    {
        if (held is null)
        {
            return;
        }

        while (true)
        {
            var wait = Min(retry, Remaining());
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            var remaining = Remaining();
            if (remaining <= TimeSpan.Zero)
            {
                // The Lease may still name this replica, but a follower may take it a third of a lease from
                // now: the singletons must have stopped by then. The release that follows hands it over at once
                // if the API answers again.
                LogRenewDeadlinePassed(logger, leaseNamespace, leaseName, RenewDeadline.TotalSeconds);
                return;
            }

            if (!await RenewAsync(Min(requestTimeout, remaining), cancellationToken))
            {
                return;
            }
        }
    }

    public async Task ReleaseAsync()
    {
        if (held is not { } lease)
        {
            return;
        }

        held = null;
        var now = time.GetUtcNow();
        // No holder: a follower takes it at once. The renewal a full lease ago says the same to a reader that
        // judges by renewTime (a person, or a replica of an earlier release during a rollout).
        var released = lease with
        {
            Spec = (lease.Spec ?? new LeaseSpec()) with
            {
                HolderIdentity = null,
                RenewTime = (now - leaseDuration).UtcDateTime,
                LeaseDurationSeconds = leaseDurationSeconds,
            },
        };
        using var timeout = new CancellationTokenSource(requestTimeout, time);
        try
        {
            await client.ReplaceAsync(leaseNamespace, leaseName, released, timeout.Token);
            LogReleased(logger, leaseNamespace, leaseName);
        }
        catch (Exception exception) when (exception is OperationCanceledException || IsApiFailure(exception))
        {
            // A 409 means someone else holds it already; otherwise the successor waits for the lease to run out.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        client.Dispose();
    }

    /// <summary>One renewal: false when another replica holds the Lease now, true to go on (renewed or not).</summary>
    private async Task<bool> RenewAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var lease = held!;
        var now = time.GetUtcNow();
        var sentAt = time.GetTimestamp();
        using var timeout = new CancellationTokenSource(limit, time);
        using var link = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout);
        try
        {
            try
            {
                var renewed = lease with { Spec = (lease.Spec ?? new LeaseSpec()) with { RenewTime = now.UtcDateTime, LeaseDurationSeconds = leaseDurationSeconds } };
                held = await client.ReplaceAsync(leaseNamespace, leaseName, renewed, timeout.Token);
                renewedAt = sentAt;
                return true;
            }
            catch (KubernetesApiException exception) when (exception.Status == HttpStatusCode.Conflict)
            {
                // Written since our last write: by a successor, or to some other field (an annotation, or our own
                // renewal whose answer was lost). Only the holder decides.
                var current = await client.ReadAsync(leaseNamespace, leaseName, timeout.Token);
                if (current.Spec?.HolderIdentity != identity)
                {
                    held = null;
                    LogTaken(logger, leaseNamespace, leaseName, current.Spec?.HolderIdentity ?? "nobody");
                    return false;
                }

                // Still ours: the next round renews from this version; the deadline stands until it succeeds.
                held = current;
                return true;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogRenewFailed(logger, leaseNamespace, leaseName, "timed out", Remaining().TotalSeconds);
            return true;
        }
        catch (Exception exception) when (IsApiFailure(exception))
        {
            LogRenewFailed(logger, leaseNamespace, leaseName, Describe(exception), Remaining().TotalSeconds);
            return true;
        }
    }

    private Lease NewLease(DateTimeOffset now) => new()
    {
        ApiVersion = "coordination.k8s.io/v1",
        Kind = "Lease",
        Metadata = new LeaseMetadata { Name = leaseName, Namespace = leaseNamespace },
        Spec = new LeaseSpec
        {
            HolderIdentity = identity,
            LeaseDurationSeconds = leaseDurationSeconds,
            AcquireTime = now.UtcDateTime,
            RenewTime = now.UtcDateTime,
            LeaseTransitions = 0,
        },
    };

    /// <summary>
    /// Restarts the wait when the Lease differs from what was last seen. Any write changes the resourceVersion, so
    /// a renewal counts even if the holder's wall clock stepped back and repeated a renewTime; an edit by someone
    /// else (an annotation) restarts the wait too, which errs towards waiting.
    /// </summary>
    private void Observe(Lease lease, long readAt)
    {
        var seen = new Observation(
            lease.Spec?.HolderIdentity, lease.Spec?.RenewTime, lease.Metadata?.ResourceVersion, lease.Spec?.LeaseTransitions);
        if (observed != seen)
        {
            observed = seen;
            observedAt = readAt;
        }
    }

    /// <summary>
    /// Held by someone else who has changed the Lease within its lease duration (the holder's own) as this
    /// replica's monotonic clock measures it: only time seen passing here counts, never the holder's renewTime.
    /// </summary>
    private bool HeldByAnother(LeaseSpec spec)
    {
        if (string.IsNullOrEmpty(spec.HolderIdentity) || spec.HolderIdentity == identity)
        {
            return false;
        }

        var duration = TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? leaseDurationSeconds);
        return time.GetElapsedTime(observedAt) < duration;
    }

    private bool Took(Lease lease, long sentAt)
    {
        held = lease;
        renewedAt = sentAt;
        LogAcquired(logger, leaseNamespace, leaseName, identity, lease.Spec?.LeaseTransitions ?? 0);
        return true;
    }

    private TimeSpan Remaining() => RenewDeadline - time.GetElapsedTime(renewedAt);

    /// <inheritdoc/>
    public bool IsConfirmed => Remaining() > TimeSpan.Zero;

    private static bool IsApiFailure(Exception exception) =>
        exception is KubernetesApiException or HttpRequestException or IOException or JsonException;

    /// <summary>The status code or the exception's type, never the request: its headers carry the token.</summary>
    private static string Describe(Exception exception) => exception is KubernetesApiException api
        ? $"HTTP {(int)api.Status} {api.Status}"
        : exception.GetType().Name;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>What a follower compares between two reads of the Lease.</summary>
    private readonly record struct Observation(string? Holder, DateTime? RenewTime, string? ResourceVersion, int? Transitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Holding Lease {Namespace}/{Name} as {Identity} (transitions: {Transitions})")]
    private static partial void LogAcquired(ILogger logger, string @namespace, string name, string identity, int transitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not take Lease {Namespace}/{Name}: {Error}")]
    private static partial void LogAcquireFailed(ILogger logger, string @namespace, string name, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing Lease {Namespace}/{Name} failed ({Error}); leading for at most {Seconds:0.#} s more")]
    private static partial void LogRenewFailed(ILogger logger, string @namespace, string name, string error, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease {Namespace}/{Name} not renewed for {Seconds} s: stepping down before it can expire")]
    private static partial void LogRenewDeadlinePassed(ILogger logger, string @namespace, string name, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease {Namespace}/{Name} is held by {Holder} now")]
    private static partial void LogTaken(ILogger logger, string @namespace, string name, string holder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released Lease {Namespace}/{Name}")]
    private static partial void LogReleased(ILogger logger, string @namespace, string name);
}
