using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Unit.Coordination;

internal enum ApiFault
{
    None,

    /// <summary>Every call answers 503, as an API server that is down behind its load balancer.</summary>
    Unavailable,

    /// <summary>Every call hangs until the client gives up.</summary>
    Stall,
}

/// <summary>
/// The slice of the Kubernetes API server the Lease lock talks to (GET, POST and PUT of
/// <c>coordination.k8s.io/v1</c> Leases) with its concurrency rules: every write gets a new resourceVersion,
/// a PUT carrying any other than the current one is 409 Conflict, a POST of an existing name is 409
/// AlreadyExists, a missing Lease is 404. Stricter than the real server in one point: a PUT without a
/// resourceVersion is refused (422) rather than applied blindly, since the lock must never write blindly.
/// </summary>
internal sealed class FakeLeaseApi : IAsyncDisposable
{
    public const string Namespace = "bots";
    private const string Leases = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly WebApplication app;
    private readonly Lock gate = new();
    private readonly Dictionary<string, JsonObject> leases = [];
    private readonly List<string> calls = [];
    private readonly List<string> authorizations = [];
    private readonly Dictionary<string, ApiFault> clientFaults = [];
    private readonly CancellationTokenSource stopping = new();
    private long revision = 1000;
    private int stalled;
    private volatile ApiFault fault;
    private ReadBarrier? readBarrier;

    private FakeLeaseApi(WebApplication app)
    {
        this.app = app;
        app.MapGet(Leases + "/{name}", (RequestDelegate)ReadAsync);
        app.MapPost(Leases, (RequestDelegate)CreateAsync);
        app.MapPut(Leases + "/{name}", (RequestDelegate)ReplaceAsync);
    }

    public Uri Url { get; private set; } = null!;

    public ApiFault Fault
    {
        get => fault;
        set => fault = value;
    }

    /// <summary>
    /// A fault for the calls of one client only (by its bearer token), as a replica cut off from the API server
    /// while the others reach it; <see cref="ApiFault.None"/> puts the client back under <see cref="Fault"/>.
    /// </summary>
    public void SetFault(string accessToken, ApiFault clientFault)
    {
        lock (gate)
        {
            if (clientFault == ApiFault.None)
            {
                clientFaults.Remove("Bearer " + accessToken);
            }
            else
            {
                clientFaults["Bearer " + accessToken] = clientFault;
            }
        }
    }

    /// <summary>Calls as "METHOD name" in arrival order.</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (gate)
            {
                return [.. calls];
            }
        }
    }

    public IReadOnlyList<string> Authorizations
    {
        get
        {
            lock (gate)
            {
                return [.. authorizations];
            }
        }
    }

    public int Stalled => Volatile.Read(ref stalled);

    /// <summary>Over HTTP, or over HTTPS with <paramref name="certificate"/> as the API server's certificate.</summary>
    public static async Task<FakeLeaseApi> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var api = new FakeLeaseApi(builder.Build());
        await api.app.StartAsync();
        api.Url = new Uri(api.app.Urls.Single());
        return api;
    }

    /// <summary>The stored Lease as the client library reads it; null when there is none.</summary>
    public V1Lease? Lease(string name)
    {
        lock (gate)
        {
            return leases.TryGetValue(name, out var stored) ? KubernetesJson.Deserialize<V1Lease>(stored.ToJsonString()) : null;
        }
    }

    /// <summary>A write by someone else (kubectl, another controller): changes the Lease and its resourceVersion.</summary>
    public void Edit(string name, Action<JsonObject> change)
    {
        lock (gate)
        {
            var stored = leases[name];
            change(stored);
            stored["metadata"]!["resourceVersion"] = NextRevision();
        }
    }

    /// <summary>Holds the next <paramref name="count"/> reads until all have arrived, so that they see the same version.</summary>
    public void HoldReads(int count)
    {
        lock (gate)
        {
            readBarrier = new ReadBarrier(count);
        }
    }

    /// <summary>Waits (in real time) until the stored Lease satisfies <paramref name="condition"/>.</summary>
    public async Task<V1Lease> WaitForLeaseAsync(string name, Func<V1Lease, bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (Lease(name) is { } lease && condition(lease))
            {
                return lease;
            }

            if (waited.Elapsed > Patience)
            {
                throw new TimeoutException($"Lease {name} never reached the expected state; last: {Lease(name)?.Spec}");
            }

            await Task.Delay(2);
        }
    }

    public async Task WaitForStalledAsync(int count)
    {
        var waited = Stopwatch.StartNew();
        while (Stalled < count)
        {
            if (waited.Elapsed > Patience)
            {
                throw new TimeoutException($"{Stalled} calls stalled, expected {count}");
            }

            await Task.Delay(2);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await app.StopAsync(stop.Token);
        await app.DisposeAsync();
        stopping.Dispose();
    }

    private async Task ReadAsync(HttpContext context)
    {
        var name = (string)context.Request.RouteValues["name"]!;
        if (!await AdmitAsync(context, name))
        {
            return;
        }

        // The state is taken as the read arrives, before any barrier: every held read then answers with the
        // same version, whichever of them is released and writes first.
        ReadBarrier? barrier;
        string? json;
        lock (gate)
        {
            barrier = readBarrier;
            json = leases.TryGetValue(name, out var stored) ? stored.ToJsonString() : null;
        }

        if (barrier is not null)
        {
            await barrier.ArriveAsync().WaitAsync(context.RequestAborted);
        }

        await (json is null ? WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"leases.coordination.k8s.io \"{name}\" not found", name) : WriteAsync(context, HttpStatusCode.OK, json));
    }

    private async Task CreateAsync(HttpContext context)
    {
        var lease = await ReadBodyAsync(context);
        var name = lease["metadata"]?["name"]?.GetValue<string>() ?? "";
        if (!await AdmitAsync(context, name))
        {
            return;
        }

        string? json = null;
        lock (gate)
        {
            if (!leases.ContainsKey(name))
            {
                var metadata = lease["metadata"]!.AsObject();
                metadata["namespace"] = (string)context.Request.RouteValues["ns"]!;
                metadata["uid"] = Guid.NewGuid().ToString();
                metadata["resourceVersion"] = NextRevision();
                leases[name] = lease;
                json = lease.ToJsonString();
            }
        }

        await (json is null
            ? WriteStatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"leases.coordination.k8s.io \"{name}\" already exists", name)
            : WriteAsync(context, HttpStatusCode.Created, json));
    }

    private async Task ReplaceAsync(HttpContext context)
    {
        var name = (string)context.Request.RouteValues["name"]!;
        var lease = await ReadBodyAsync(context);
        if (!await AdmitAsync(context, name))
        {
            return;
        }

        var sent = lease["metadata"]?["resourceVersion"]?.GetValue<string>();
        (HttpStatusCode Status, string Reason)? refusal = null;
        string json = "";
        lock (gate)
        {
            if (!leases.TryGetValue(name, out var stored))
            {
                refusal = (HttpStatusCode.NotFound, "NotFound");
            }
            else if (sent is null)
            {
                refusal = (HttpStatusCode.UnprocessableEntity, "Invalid");
            }
            else if (sent != stored["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                refusal = (HttpStatusCode.Conflict, "Conflict");
            }
            else
            {
                var metadata = lease["metadata"]!.AsObject();
                metadata["uid"] = stored["metadata"]!["uid"]!.GetValue<string>();
                metadata["resourceVersion"] = NextRevision();
                leases[name] = lease;
                json = lease.ToJsonString();
            }
        }

        await (refusal is { } r
            ? WriteStatusAsync(context, r.Status, r.Reason, $"Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": {r.Reason}", name)
            : WriteAsync(context, HttpStatusCode.OK, json));
    }

    /// <summary>Records the call and applies the fault; false when the call has been answered (or abandoned) by it.</summary>
    private async Task<bool> AdmitAsync(HttpContext context, string name)
    {
        ApiFault applied;
        lock (gate)
        {
            var authorization = context.Request.Headers.Authorization.ToString();
            calls.Add($"{context.Request.Method} {name}");
            authorizations.Add(authorization);
            applied = clientFaults.TryGetValue(authorization, out var clientFault) ? clientFault : fault;
        }

        switch (applied)
        {
            case ApiFault.Unavailable:
                await WriteStatusAsync(context, HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "the server is currently unable to handle the request", name);
                return false;
            case ApiFault.Stall:
                Interlocked.Increment(ref stalled);
                try
                {
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
                    await Task.Delay(Timeout.InfiniteTimeSpan, either.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
                finally
                {
                    Interlocked.Decrement(ref stalled);
                }

                return false;
            default:
                return true;
        }
    }

    private string NextRevision() => (++revision).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<JsonObject> ReadBodyAsync(HttpContext context) =>
        (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();

    private static Task WriteAsync(HttpContext context, HttpStatusCode status, string json)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }

    private static Task WriteStatusAsync(HttpContext context, HttpStatusCode status, string reason, string message, string name)
    {
        var body = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["details"] = new JsonObject { ["name"] = name, ["group"] = "coordination.k8s.io", ["kind"] = "leases" },
            ["code"] = (int)status,
        };
        return WriteAsync(context, status, body.ToJsonString());
    }

    private sealed class ReadBarrier(int count)
    {
        private readonly TaskCompletionSource open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int waiting = count;

        public Task ArriveAsync()
        {
            if (Interlocked.Decrement(ref waiting) <= 0)
            {
                open.TrySetResult();
            }

            return open.Task;
        }
    }
}
