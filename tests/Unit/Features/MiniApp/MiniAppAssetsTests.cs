using System.Text;
using System.Text.RegularExpressions;
using Bot.Features.MiniApp;
using Microsoft.AspNetCore.Http;

namespace Bot.Tests.Unit.Features.MiniApp;

/// <summary>
/// The app's files as the binary serves them: within the size budget, loadable under the Content-Security-Policy (no
/// inline script or style, no handler attributes, no other origin), every module they import present, and each
/// response with the policy and its cache rule.
/// </summary>
public sealed partial class MiniAppAssetsTests
{
    /// <summary>What a first visit downloads at most, compressed.</summary>
    public const int BudgetBytes = 150 * 1024;

    private static readonly MiniAppAssets Assets = new();

    [Fact]
    public void The_app_is_within_its_size_budget_compressed()
    {
        Assert.Contains("index.html", Assets.Files.Keys);
        Assert.Contains("app.js", Assets.Files.Keys);
        Assert.Contains("app.css", Assets.Files.Keys);
        Assert.InRange(Assets.CompressedBytes, 1, BudgetBytes);
        Assert.All(Assets.Files.Values, f => Assert.True(f.Gzipped.Length < f.Content.Length || f.Content.Length < 200, f.Name));
    }

    [Fact]
    public void The_policy_allows_the_apps_own_origin_only_and_framing_by_telegram_only()
    {
        var directives = MiniAppAssets.ContentSecurityPolicy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(d => d.Split(' ')[0], d => d.Split(' ')[1..]);
        Assert.Equal(["'none'"], directives["default-src"]);
        Assert.Equal(["'self'"], directives["script-src"]);
        Assert.Equal(["'self'"], directives["style-src"]);
        Assert.Equal(["'self'"], directives["connect-src"]);
        Assert.Equal(["https://web.telegram.org"], directives["frame-ancestors"]);
        Assert.Equal(["'none'"], directives["base-uri"]);
        Assert.Equal(["'none'"], directives["form-action"]);
        Assert.DoesNotContain(directives.Values.SelectMany(v => v), v => v is "*" or "'unsafe-inline'" or "'unsafe-eval'" or "http:" or "https:" or "data:" && v != "data:");
        Assert.Equal(["'self'", "data:"], directives["img-src"]);
    }

    [Fact]
    public void The_page_needs_nothing_the_policy_forbids()
    {
        foreach (var file in Assets.Files.Values)
        {
            var text = Encoding.UTF8.GetString(file.Content);
            // A style attribute in markup, or written into markup by a script (CSSOM, element.style.x = …, is allowed).
            var styled = file.Name.EndsWith(".html", StringComparison.Ordinal) ? StyleAttribute().IsMatch(text) : text.Contains("style=\"", StringComparison.Ordinal) || text.Contains("style='", StringComparison.Ordinal);
            Assert.False(styled, $"{file.Name}: a style attribute (style-src 'self' refuses it)");
            Assert.False(text.Contains("setAttribute('style'", StringComparison.Ordinal) || text.Contains("setAttribute(\"style\"", StringComparison.Ordinal), file.Name);
            Assert.False(text.Contains("eval(", StringComparison.Ordinal) || text.Contains("new Function", StringComparison.Ordinal), $"{file.Name}: eval");
            Assert.False(InnerHtml().IsMatch(text), $"{file.Name}: data written as HTML (textContent only)");
            foreach (Match origin in Origin().Matches(text))
            {
                Assert.True(file.Name == "app.js" && origin.Value == "https://web.telegram.org", $"{file.Name}: another origin {origin.Value}");
            }
        }

        var html = Encoding.UTF8.GetString(Assets.Files["index.html"].Content);
        Assert.False(HandlerAttribute().IsMatch(html), "an inline event handler");
        Assert.All(Script().Matches(html), s => Assert.True(s.Groups["attrs"].Value.Contains(" src=\"", StringComparison.Ordinal) && s.Groups["body"].Value.Trim().Length == 0, s.Value));
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"src=\"app.js?v={Assets.Files["app.js"].Version}\"", html, StringComparison.Ordinal);
        Assert.Contains($"href=\"app.css?v={Assets.Files["app.css"].Version}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_module_an_app_module_imports_is_served()
    {
        foreach (var file in Assets.Files.Values.Where(f => f.Name.EndsWith(".js", StringComparison.Ordinal)))
        {
            foreach (Match import in Import().Matches(Encoding.UTF8.GetString(file.Content)))
            {
                Assert.Contains(import.Groups["name"].Value, Assets.Files.Keys);
            }
        }
    }

    [Fact]
    public void Each_response_carries_the_policy_and_its_cache_rule()
    {
        var page = Serve("", gzip: true);
        Assert.Equal(MiniAppAssets.ContentSecurityPolicy, page.Response.Headers.ContentSecurityPolicy.ToString());
        Assert.Equal("nosniff", page.Response.Headers.XContentTypeOptions.ToString());
        Assert.Equal("no-cache", page.Response.Headers.CacheControl.ToString());
        Assert.Equal("gzip", page.Response.Headers.ContentEncoding.ToString());

        var versioned = Serve("app.js", query: "?v=" + Assets.Files["app.js"].Version);
        Assert.Equal("public, max-age=31536000, immutable", versioned.Response.Headers.CacheControl.ToString());
        var stale = Serve("app.js", query: "?v=0000000000000000");
        Assert.Equal("no-cache", stale.Response.Headers.CacheControl.ToString());
        Assert.NotEqual(Serve("app.js", gzip: true).Response.Headers.ETag.ToString(), Serve("app.js").Response.Headers.ETag.ToString());
    }

    private static DefaultHttpContext Serve(string name, bool gzip = false, string query = "")
    {
        var http = new DefaultHttpContext();
        http.Request.QueryString = new QueryString(query);
        if (gzip)
        {
            http.Request.Headers.AcceptEncoding = "gzip, br";
        }

        _ = Assets.Serve(http, name);
        return http;
    }

    [GeneratedRegex("""\sstyle\s*=""", RegexOptions.IgnoreCase)]
    private static partial Regex StyleAttribute();

    [GeneratedRegex("""\son[a-z]+\s*=""", RegexOptions.IgnoreCase)]
    private static partial Regex HandlerAttribute();

    [GeneratedRegex("""(innerHTML|outerHTML)\s*\+?=(?!\s*(''|""|``)\s*;)|insertAdjacentHTML|document\.write""")]
    private static partial Regex InnerHtml();

    [GeneratedRegex("""https?://[A-Za-z0-9.\-]+""")]
    private static partial Regex Origin();

    [GeneratedRegex("""<script(?<attrs>[^>]*)>(?<body>.*?)</script>""", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Script();

    [GeneratedRegex("""(?:import|from)\s*\(?\s*['"]\./(?<name>[^'"]+)['"]""")]
    private static partial Regex Import();
}
