using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bot.Coordination;

/// <summary>
/// The three calls of the Kubernetes API that the Lease lock makes (read, create and replace a
/// <c>coordination.k8s.io/v1</c> Lease), over <see cref="HttpClient"/> with a JSON context of the Lease alone.
/// KubernetesClient's own client serializes through one context over every Kubernetes model, which the trimmer must
/// then keep whole: 18.4 MiB of a 62.8 MiB binary for three calls (docs/performance.md, "what the Native AOT binary
/// holds"). Fields of the Lease this class does not name (labels, annotations, managed fields, a preferred holder)
/// are kept as read and written back unchanged, so a replace never drops what someone else set.
/// </summary>
public sealed class LeaseApi : IDisposable
{
    private const string ServiceAccount = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// How long a read service-account token is used before the file is read again (client-go: one minute), on the
    /// monotonic clock, so that a step of the wall clock cannot keep a rotated-out token in use.
    /// </summary>
    private static readonly TimeSpan TokenReload = TimeSpan.FromMinutes(1);

    private readonly HttpClient http;
    private readonly Func<string?> token;

    /// <summary>Against <paramref name="server"/> with the bearer token <paramref name="token"/> returns at each call.</summary>
    public LeaseApi(Uri server, Func<string?> token, HttpMessageHandler handler)
    {
        http = new HttpClient(handler) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        this.token = token;
    }

    /// <summary>
    /// In a pod: the API server from <c>KUBERNETES_SERVICE_HOST</c>/<c>_PORT</c>, the service account's token
    /// (re-read every minute: bound tokens rotate) and its CA, the only root the server's certificate may chain to.
    /// </summary>
    public static LeaseApi InCluster() => InCluster(
        Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"), Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT"), ServiceAccount);

    internal static LeaseApi InCluster(string? host, string? port, string serviceAccountDirectory)
    {
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new InvalidOperationException("not in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
        }

        var tokenFile = Path.Combine(serviceAccountDirectory, "token");
        var caFile = Path.Combine(serviceAccountDirectory, "ca.crt");
        if (!File.Exists(tokenFile) || !File.Exists(caFile))
        {
            throw new InvalidOperationException($"the service account is not mounted ({tokenFile}, {caFile})");
        }

        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caFile);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(roots, certificate, errors),
            },
        };
        var server = new Uri($"https://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}/");
        return new LeaseApi(server, ReloadingToken(tokenFile), handler);
    }

    public Task<Lease> ReadAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"{Leases(@namespace)}/{Uri.EscapeDataString(name)}", null, cancellationToken);

    public Task<Lease> CreateAsync(string @namespace, Lease lease, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, Leases(@namespace), lease, cancellationToken);

    /// <summary>A replace (PUT) carrying the Lease's <c>resourceVersion</c>: 409 when it was written since.</summary>
    public Task<Lease> ReplaceAsync(string @namespace, string name, Lease lease, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"{Leases(@namespace)}/{Uri.EscapeDataString(name)}", lease, cancellationToken);

    public void Dispose() => http.Dispose();

    private static string Leases(string @namespace) => $"apis/coordination.k8s.io/v1/namespaces/{Uri.EscapeDataString(@namespace)}/leases";

    private async Task<Lease> SendAsync(HttpMethod method, string path, Lease? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token() is { Length: > 0 } bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, LeaseJson.Default.Lease), Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new KubernetesApiException(response.StatusCode);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync(stream, LeaseJson.Default.Lease, cancellationToken)
            ?? throw new JsonException("the API server answered null for a Lease");
    }

    private static Func<string?> ReloadingToken(string file)
    {
        var gate = new Lock();
        string? current = null;
        var readAt = 0L;
        return () =>
        {
            lock (gate)
            {
                if (current is null || System.Diagnostics.Stopwatch.GetElapsedTime(readAt) >= TokenReload)
                {
                    try
                    {
                        current = File.ReadAllText(file).Trim();
                        readAt = System.Diagnostics.Stopwatch.GetTimestamp();
                    }
                    catch (IOException) when (current is not null)
                    {
                        // The kubelet swaps the file atomically; a failed read keeps the token in hand until the next try.
                    }
                }

                return current;
            }
        };
    }

    /// <summary>The server's certificate, its name included, must chain to the cluster's CA and to nothing else.</summary>
    private static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }
}

/// <summary>An answer of the API server other than 2xx; carries the status only, never the request (its token).</summary>
public sealed class KubernetesApiException(HttpStatusCode status)
    : Exception($"the Kubernetes API answered HTTP {(int)status} {status}")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>A <c>coordination.k8s.io/v1</c> Lease: the fields the lock uses, and everything else as read.</summary>
public sealed record Lease
{
    public string? ApiVersion { get; init; }

    public string? Kind { get; init; }

    public LeaseMetadata? Metadata { get; init; }

    public LeaseSpec? Spec { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

public sealed record LeaseMetadata
{
    public string? Name { get; init; }

    public string? Namespace { get; init; }

    public string? ResourceVersion { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

public sealed record LeaseSpec
{
    public string? HolderIdentity { get; init; }

    public int? LeaseDurationSeconds { get; init; }

    [JsonConverter(typeof(MicroTimeConverter))]
    public DateTime? AcquireTime { get; init; }

    [JsonConverter(typeof(MicroTimeConverter))]
    public DateTime? RenewTime { get; init; }

    public int? LeaseTransitions { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}

/// <summary>Kubernetes' MicroTime: RFC 3339 in UTC with microseconds (<c>2026-12-03T10:20:32.123456Z</c>).</summary>
public sealed class MicroTimeConverter : JsonConverter<DateTime?>
{
    public override DateTime? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null
            ? null
            : DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime;

    public override void Write(Utf8JsonWriter writer, DateTime? value, JsonSerializerOptions options)
    {
        if (value is { } time)
        {
            writer.WriteStringValue(time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Lease))]
internal sealed partial class LeaseJson : JsonSerializerContext;
