using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

/// <summary>The two listeners a route may belong to.</summary>
public enum Surface
{
    /// <summary>Hosting:PublicPort: what the ingress exposes (the webhook and nothing else).</summary>
    Public,

    /// <summary>Hosting:InternalPort: health, the admin API and its OpenAPI document.</summary>
    Internal,
}

/// <summary>Endpoint metadata naming the one surface a route is served on.</summary>
public sealed record SurfaceMetadata(Surface Surface);

/// <summary>
/// Decides which port serves which route from the endpoint's own metadata and the port the connection arrived
/// on (never the Host header, which a client chooses, and never a comparison of path strings, which routing
/// does not share: it matches case-insensitively, decodes and normalises). It splits route matching by port
/// before the HTTP method does, so a route of the other surface does not match at all (404, not even 405),
/// whatever the path's spelling; a route that names no surface, or more than one, matches nowhere.
/// </summary>
public sealed class SurfaceMatcherPolicy(IOptions<HostingOptions> options) : MatcherPolicy, INodeBuilderPolicy
{
    private const int Nowhere = -1;

    private readonly int publicPort = options.Value.PublicPort;
    private readonly int internalPort = options.Value.InternalPort;

    // Before the HTTP method policy (-1000): its 405 answers are then built per port from that port's routes.
    public override int Order => -2000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Count > 0;

    public IReadOnlyList<PolicyNodeEdge> GetEdges(IReadOnlyList<Endpoint> endpoints) =>
        [.. endpoints.GroupBy(PortOf).Where(g => g.Key != Nowhere).Select(g => new PolicyNodeEdge(g.Key, g.ToList()))];

    public PolicyJumpTable BuildJumpTable(int exitDestination, IReadOnlyList<PolicyJumpTableEdge> edges) =>
        new PortJumpTable(exitDestination, edges.ToDictionary(e => (int)e.State, e => e.Destination));

    private int PortOf(Endpoint endpoint)
    {
        var surfaces = endpoint.Metadata.GetOrderedMetadata<SurfaceMetadata>();
        return surfaces.Count != 1 ? Nowhere : surfaces[0].Surface == Surface.Public ? publicPort : internalPort;
    }

    private sealed class PortJumpTable(int exitDestination, Dictionary<int, int> destinations) : PolicyJumpTable
    {
        public override int GetDestination(HttpContext httpContext) =>
            destinations.TryGetValue(httpContext.Connection.LocalPort, out var destination) ? destination : exitDestination;
    }
}

public static class SurfaceExtensions
{
    /// <summary>A route group whose every route is served on <paramref name="surface"/>'s port only.</summary>
    public static RouteGroupBuilder MapSurface(this IEndpointRouteBuilder app, Surface surface) =>
        app.MapGroup("").WithMetadata(new SurfaceMetadata(surface));
}
