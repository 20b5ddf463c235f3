using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bot.Coordination;

namespace Bot.Tests.Unit.Coordination;

/// <summary>The Lease client's in-cluster set-up: the service account's files, and the cluster CA as the only trust.</summary>
public sealed class LeaseApiTests : IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly string directory = Directory.CreateTempSubdirectory("lease-sa-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Outside_a_pod_or_without_the_service_account_it_says_what_is_missing()
    {
        var error = Assert.Throws<InvalidOperationException>(() => LeaseApi.InCluster(null, "443", directory));
        Assert.Contains("KUBERNETES_SERVICE_HOST", error.Message, StringComparison.Ordinal);

        error = Assert.Throws<InvalidOperationException>(() => LeaseApi.InCluster("10.96.0.1", "443", directory));
        Assert.Contains("service account is not mounted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_server_is_trusted_through_the_cluster_ca_with_the_mounted_token_and_no_other_ca()
    {
        using var clusterCa = Authority("cluster-ca");
        using var serverCertificate = Issue(clusterCa, "127.0.0.1");
        await using var api = await FakeLeaseApi.StartAsync(serverCertificate);

        WriteServiceAccount(clusterCa, "sa-token-1");
        using (var client = LeaseApi.InCluster("127.0.0.1", api.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), directory))
        {
            var missing = await Assert.ThrowsAsync<KubernetesApiException>(() => client.ReadAsync(FakeLeaseApi.Namespace, "absent", Cancel));
            Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        }

        Assert.Contains("Bearer sa-token-1", api.Authorizations);

        // A certificate for the same address from another CA (a machine in the middle) is refused before any request.
        using var otherCa = Authority("other-ca");
        WriteServiceAccount(otherCa, "sa-token-2");
        using (var client = LeaseApi.InCluster("127.0.0.1", api.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), directory))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.ReadAsync(FakeLeaseApi.Namespace, "absent", Cancel));
            Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        }

        Assert.DoesNotContain("Bearer sa-token-2", api.Authorizations);
    }

    private void WriteServiceAccount(X509Certificate2 ca, string token)
    {
        File.WriteAllText(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "token"), token + "\n");
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string address)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kube-apiserver", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Parse(address));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(30), [1, 2, 3, 4]);
        return X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pfx), null);
    }
}
