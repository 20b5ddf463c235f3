using Bot;
using Bot.Admin;
using Bot.Features.Broadcasts;
using Bot.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;

namespace Bot.Tests.Unit.Hosting;

/// <summary>
/// Every route of the composed service, as routing sees it: each belongs to exactly one surface (port); the
/// public one serves the webhook and the Discord callback alone; every admin route carries the admin policies, the rate limit, the body
/// limit and the audit marker, whatever its path looks like. A route added without them fails here.
/// </summary>
public sealed class EndpointSurfaceTests
{
    private static readonly string[] Anonymous = ["/healthz", "/readyz", "/openapi/v1.json"];

    /// <summary>POST routes that change nothing (their input is a body), served to the read scope.</summary>
    private static readonly string[] ReadOnlyPosts = ["/admin/broadcasts/audience-count"];

    [Fact]
    public async Task Every_route_names_one_surface_and_every_admin_route_its_policies()
    {
        var endpoints = await EndpointsAsync();
        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e => Assert.Single(e.Metadata.GetOrderedMetadata<SurfaceMetadata>()));

        // The public port: the webhook (its secret header is its proof) and the Discord callback (its single-use
        // state is; it answers 404 while the DiscordSync flag is off), both anonymous by declaration.
        var publicRoutes = endpoints.Where(e => SurfaceOf(e) == Bot.Hosting.Surface.Public).ToList();
        Assert.Equal(["/discord/callback", "/telegram/webhook"], publicRoutes.Select(e => e.RoutePattern.RawText!).Order());
        Assert.All(publicRoutes, e => Assert.Empty(e.Metadata.GetOrderedMetadata<IAuthorizeData>()));
        var webhook = publicRoutes.Single(e => e.RoutePattern.RawText == "/telegram/webhook");
        var callback = publicRoutes.Single(e => e.RoutePattern.RawText == "/discord/callback");
        Assert.NotEmpty(callback.Metadata.GetOrderedMetadata<IAllowAnonymous>());
        Assert.Equal(["GET"], callback.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods);

        var admin = endpoints.Where(e => e.RoutePattern.RawText!.StartsWith("/admin", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal(20, admin.Count);
        foreach (var endpoint in admin)
        {
            var name = endpoint.DisplayName;
            var pattern = endpoint.RoutePattern.RawText!;
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods;
            Assert.Equal(Bot.Hosting.Surface.Internal, SurfaceOf(endpoint));
            Assert.NotNull(endpoint.Metadata.GetMetadata<AdminApiMetadata>());
            Assert.NotNull(endpoint.Metadata.GetMetadata<EnableRateLimitingAttribute>());
            // Saving an audience list of up to 100,000 ids is the one body allowed past 64 KiB.
            var bodyLimit = methods.Contains("PUT") && pattern == "/admin/audience-lists/{name}" ? AudienceLists.MaxBodyBytes : AdminEndpoints.MaxBodyBytes;
            Assert.Equal(bodyLimit, endpoint.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize);
            Assert.Empty(endpoint.Metadata.GetOrderedMetadata<IAllowAnonymous>());
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToHashSet();
            Assert.Contains(AdminAuth.ReadPolicy, policies);
            var writes = methods.Any(m => m != "GET") && !ReadOnlyPosts.Contains(pattern);
            Assert.True(writes == policies.Contains(AdminAuth.WritePolicy), $"{name}: the write policy belongs to exactly the routes that change something");
        }

        // Everything else on the internal port is the probes and the API's description, and nothing more.
        var rest = endpoints.Except(admin).Except(publicRoutes).ToList();
        Assert.Equal(Anonymous.Order(), rest.Select(e => e.RoutePattern.RawText!).Order());
        Assert.All(rest, e => Assert.Equal(Bot.Hosting.Surface.Internal, SurfaceOf(e)));
        Assert.All(rest, e => Assert.Empty(e.Metadata.GetOrderedMetadata<IAuthorizeData>()));
    }

    private static Bot.Hosting.Surface SurfaceOf(Endpoint endpoint) => endpoint.Metadata.GetRequiredMetadata<SurfaceMetadata>().Surface;

    private static async Task<List<RouteEndpoint>> EndpointsAsync()
    {
        await using var app = ComposedService.Build();
        return ComposedService.Endpoints(app);
    }
}
