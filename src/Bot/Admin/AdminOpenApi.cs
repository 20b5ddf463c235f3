using Microsoft.OpenApi;

namespace Bot.Admin;

/// <summary>
/// The admin API's OpenAPI document. The service serves it as a file embedded in the binary
/// (<c>Admin/openapi.v1.json</c>): generating it at run time (Microsoft.AspNetCore.OpenApi over Microsoft.OpenApi) would
/// put the generator's services on the start path and its code in the binary for a document that only changes with
/// the routes. <see cref="AddGenerator"/> is what makes the document from the routes; the service never calls it (so
/// the Native AOT build leaves the generator out), <c>OpenApiDocumentTests</c> does, on the composed service, and fails
/// when what it generates differs from the embedded file (<c>scripts/openapi.sh</c> writes the file anew).
/// </summary>
public static class AdminOpenApi
{
    /// <summary>Where the document is served, on the internal port, without a token (it describes, it grants nothing).</summary>
    public const string Path = "/openapi/v1.json";

    /// <summary>The name of the embedded file (the csproj gives it).</summary>
    public const string ResourceName = "openapi/v1.json";

    private static readonly Lazy<byte[]> Document = new(Read);

    /// <summary>The embedded document's bytes, as served.</summary>
    public static ReadOnlyMemory<byte> Bytes => Document.Value;

    /// <summary>Serves the embedded document.</summary>
    public static IEndpointRouteBuilder MapOpenApiDocument(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, () => Results.Bytes(Document.Value, "application/json;charset=utf-8"));
        return app;
    }

    /// <summary>
    /// The generator of the document, as the service would run it (document "v1": the admin routes only, with the
    /// bearer scheme). For the document's test and <c>scripts/openapi.sh</c>, never for the service.
    /// </summary>
    public static IServiceCollection AddGenerator(IServiceCollection services) => services.AddOpenApi("v1", openApi =>
    {
        // The document describes the admin API; health probes and the webhook have their own contracts.
        openApi.ShouldInclude = description => description.ActionDescriptor.EndpointMetadata.OfType<AdminApiMetadata>().Any();
        openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Bot admin API",
                Version = "v1",
                Description = "Broadcasts, join decisions and counts. Internal port only; bearer token Admin__Token (write) or Admin__ReadToken (read).",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Admin__Token (read and write) or Admin__ReadToken (read only)",
            };
            // Served as a file: the server is wherever it was fetched from, not the generating request's host.
            document.Servers = [];
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
            return Task.CompletedTask;
        });
    });

    private static byte[] Read()
    {
        using var stream = typeof(AdminOpenApi).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the binary lacks its embedded {ResourceName}");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
