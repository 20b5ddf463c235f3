using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Bot.Features.MiniApp;

/// <summary>One file of the app: its bytes, their gzip form, its type and entity tag.</summary>
public sealed record MiniAppAsset(string Name, byte[] Content, byte[] Gzipped, string ContentType, string ETag, string Version);

/// <summary>
/// The app's static files (wwwroot/, embedded in the binary: no files on disk, nothing at run time but these bytes),
/// compressed once. index.html names app.css and app.js with their content's hash (?v=…), so those two are cached
/// for a year and a new release is fetched at once; index.html and the modules app.js imports are revalidated
/// (ETag, 304). Every response carries the app's Content-Security-Policy: its own origin only, no inline script or
/// style, no frames but Telegram Web's.
/// </summary>
public sealed class MiniAppAssets
{
    public const string Prefix = "/app/";

    /// <summary>What the app may load and who may frame it.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'none'; "
        + "frame-ancestors https://web.telegram.org; base-uri 'none'; form-action 'none'";

    private const string ResourcePrefix = "MiniApp/";

    private static readonly Dictionary<string, string> Types = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".json"] = "application/json; charset=utf-8",
    };

    // Read and compressed at the first request, not at start: the app costs start-up nothing.
    private readonly Lazy<FrozenDictionary<string, MiniAppAsset>> files = new(Load);

    public FrozenDictionary<string, MiniAppAsset> Files => files.Value;

    /// <summary>The total gzip size of every file: what a first visit downloads at most.</summary>
    public long CompressedBytes => Files.Values.Sum(f => (long)f.Gzipped.Length);

    /// <summary>Writes <paramref name="name"/> ("" is index.html) or 404.</summary>
    public IResult Serve(HttpContext http, string name)
    {
        if (!Files.TryGetValue(name.Length == 0 ? "index.html" : name, out var asset))
        {
            return Results.NotFound();
        }

        var request = http.Request;
        var headers = http.Response.Headers;
        Secure(http.Response);
        // One tag per representation: the gzip form is another entity than the plain one.
        var gzip = AcceptsGzip(request.Headers.AcceptEncoding.ToString());
        var etag = gzip ? asset.ETag[..^1] + "-gz\"" : asset.ETag;
        headers.ETag = etag;
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.CacheControl = request.Query["v"] is [{ } version] && version == asset.Version
            ? "public, max-age=31536000, immutable"
            : "no-cache";
        if (request.Headers.IfNoneMatch.Any(tag => tag is not null && tag.Split(',').Any(t => t.Trim() == etag)))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        if (gzip)
        {
            headers.ContentEncoding = "gzip";
            return Results.Bytes(asset.Gzipped, asset.ContentType);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    /// <summary>The headers every response of the app carries, its API's too.</summary>
    public static void Secure(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }

    private static bool AcceptsGzip(string header)
    {
        foreach (var part in header.Split(','))
        {
            var coding = part.Split(';');
            if (coding[0].Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase))
            {
                return !(coding.Length > 1 && coding[1].Replace(" ", "", StringComparison.Ordinal) is "q=0" or "q=0.0" or "q=0.00" or "q=0.000");
            }
        }

        return false;
    }

    private static FrozenDictionary<string, MiniAppAsset> Load()
    {
        var assembly = typeof(MiniAppAssets).Assembly;
        var raw = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            raw[resource[ResourcePrefix.Length..]] = Read(assembly, resource);
        }

        var versions = raw.ToDictionary(f => f.Key, f => Convert.ToHexStringLower(SHA256.HashData(f.Value))[..16], StringComparer.Ordinal);
        if (raw.TryGetValue("index.html", out var index))
        {
            // The entry points, named with their hash.
            var html = Encoding.UTF8.GetString(index);
            foreach (var (file, attribute) in new[] { ("app.css", "href"), ("app.js", "src") })
            {
                if (versions.TryGetValue(file, out var version))
                {
                    html = html.Replace($"{attribute}=\"{file}\"", $"{attribute}=\"{file}?v={version}\"", StringComparison.Ordinal);
                }
            }

            raw["index.html"] = Encoding.UTF8.GetBytes(html);
            // Its tag is that of what is served, the names rewritten.
            versions["index.html"] = Convert.ToHexStringLower(SHA256.HashData(raw["index.html"]))[..16];
        }

        return raw.Where(f => Types.ContainsKey(Path.GetExtension(f.Key)))
            .Select(f => new MiniAppAsset(f.Key, f.Value, Gzip(f.Value), Types[Path.GetExtension(f.Key)], $"\"{versions[f.Key]}\"", versions[f.Key]))
            .ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }
}
