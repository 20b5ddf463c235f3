using System.Text;
using Bot.Admin;
using Bot.Tests.Unit.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Unit.Admin;

/// <summary>
/// The OpenAPI document the service serves is a file in the binary; these tests generate the document from the composed
/// service's routes (Microsoft.AspNetCore.OpenApi, exactly as the service once served it) and compare. A route added,
/// removed or changed without the file fails here. <c>scripts/openapi.sh</c> writes the file anew
/// (BOT_WRITE_OPENAPI=path makes this test write what it generated there).
/// </summary>
public sealed class OpenApiDocumentTests
{
    private const string Generated = "/generated/{documentName}.json";

    [Fact]
    public async Task The_served_document_is_what_the_routes_generate()
    {
        var generated = await GenerateAsync();
        if (Environment.GetEnvironmentVariable("BOT_WRITE_OPENAPI") is { Length: > 0 } target)
        {
            await File.WriteAllBytesAsync(target, generated, TestContext.Current.CancellationToken);
        }

        // Equal as text, so that a failure shows where they differ; then run scripts/openapi.sh and commit the file.
        Assert.Equal(Encoding.UTF8.GetString(generated), Encoding.UTF8.GetString(AdminOpenApi.Bytes.Span));
    }

    [Fact]
    public async Task The_document_route_serves_the_embedded_file_as_json()
    {
        await using var app = ComposedService.Build();
        var endpoint = Assert.Single(ComposedService.Endpoints(app), e => e.RoutePattern.RawText == AdminOpenApi.Path);
        var (body, contentType) = await InvokeAsync(app, endpoint);

        Assert.Equal("application/json;charset=utf-8", contentType);
        Assert.Equal(AdminOpenApi.Bytes.ToArray(), body);
        Assert.Contains("\"/admin/broadcasts\"", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    private static async Task<byte[]> GenerateAsync()
    {
        await using var app = ComposedService.Build(builder => AdminOpenApi.AddGenerator(builder.Services));
        app.MapOpenApi(Generated);
        // What the host does when it starts: routing's shared list of endpoints, which the API explorer reads, gets the app's.
        app.UseEndpoints(_ => { });
        var endpoint = Assert.Single(ComposedService.Endpoints(app), e => e.RoutePattern.RawText == Generated);
        var (body, contentType) = await InvokeAsync(app, endpoint, ("documentName", "v1"));
        Assert.StartsWith("application/json", contentType, StringComparison.Ordinal);
        return body;
    }

    private static async Task<(byte[] Body, string? ContentType)> InvokeAsync(
        WebApplication app, Microsoft.AspNetCore.Routing.RouteEndpoint endpoint, params (string Name, string Value)[] routeValues)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = HttpMethods.Get;
        foreach (var (name, value) in routeValues)
        {
            context.Request.RouteValues[name] = value;
        }

        using var body = new MemoryStream();
        context.Response.Body = body;
        await endpoint.RequestDelegate!(context);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        return (body.ToArray(), context.Response.ContentType);
    }
}
