using Bot;
using Bot.Admin;
using Bot.Features.Broadcasts;
using Bot.Features.MiniApp;
using Bot.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;

namespace Bot.Tests.Unit.Hosting;

/// <summary>
/// Every route of the composed service, as routing sees it: each belongs to exactly one surface (port); the
/// public one serves the webhook, the Discord callback and the Mini App (its pages, and its API behind its own policies); every admin route carries the admin policies, the rate limit, the body
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
        var publicPort = endpoints.Where(e => SurfaceOf(e) == Bot.Hosting.Surface.Public).ToList();
        var miniAppApi = publicPort.Where(e => e.RoutePattern.RawText!.StartsWith("/app/api", StringComparison.OrdinalIgnoreCase)).ToList();
        var publicRoutes = publicPort.Except(miniAppApi).ToList();
        Assert.Equal(["/app/{file?}", "/discord/callback", "/telegram/webhook"], publicRoutes.Select(e => e.RoutePattern.RawText!).Order());
        Assert.All(publicRoutes, e => Assert.Empty(e.Metadata.GetOrderedMetadata<IAuthorizeData>()));
        Assert.All(publicRoutes.Where(e => e.RoutePattern.RawText!.StartsWith("/app", StringComparison.Ordinal)),
            e => Assert.Equal(["GET", "HEAD"], e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Order()));

        // The Mini App's API: on the public port, every route behind its own scheme's policies (never the admin API's),
        // its rate limit and body limit; a chat's routes need that chat's admin, the rest but /me a bot admin.
        Assert.Equal(19, miniAppApi.Count);
        foreach (var endpoint in miniAppApi)
        {
            var pattern = endpoint.RoutePattern.RawText!;
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToHashSet();
            Assert.Contains(MiniAppAuth.UserPolicy, policies);
            Assert.DoesNotContain(AdminAuth.ReadPolicy, policies);
            Assert.DoesNotContain(AdminAuth.WritePolicy, policies);
            Assert.Empty(endpoint.Metadata.GetOrderedMetadata<IAllowAnonymous>());
            Assert.Null(endpoint.Metadata.GetMetadata<AdminApiMetadata>());
            Assert.Equal(MiniAppFeature.RateLimitPolicy, endpoint.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName);
            Assert.Equal(MiniAppFeature.MaxBodyBytes, endpoint.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize);
            var expected = pattern switch
            {
                "/app/api/me" => null,
                _ when pattern.StartsWith("/app/api/chats/{chatId:long}/", StringComparison.Ordinal) => MiniAppAuth.ChatAdminPolicy,
                _ when pattern.StartsWith("/app/api/{", StringComparison.Ordinal) => null,
                _ => MiniAppAuth.BotAdminPolicy,
            };
            if (expected is not null)
            {
                Assert.True(policies.Contains(expected), $"{pattern}: {expected}");
            }
        }

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
        var rest = endpoints.Except(admin).Except(publicPort).ToList();
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
