using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Bot.Admin;

/// <summary>The admin API's authentication scheme, its claims and its two policies.</summary>
public static class AdminAuth
{
    /// <summary>A Retry-After header's value: whole seconds, rounded up, at least one.</summary>
    public static string RetryAfter(TimeSpan after) =>
        Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public const string Scheme = "AdminBearer";
    public const string ScopeClaim = "bot.admin.scope";
    public const string TokenClaim = "bot.admin.token";

    /// <summary>Reads: stats, broadcasts, the join audit. Either scope.</summary>
    public const string ReadPolicy = "AdminRead";

    /// <summary>Writes: start and cancel broadcasts. The write scope only.</summary>
    public const string WritePolicy = "AdminWrite";

    public static string Name(AdminScope scope) => scope == AdminScope.Write ? "write" : "read";
}

/// <summary>Failed admin API authentications per client address: Admin:FailedAuthenticationsPerMinute.</summary>
public sealed class AdminAuthThrottle(IOptions<AdminOptions> options) : AuthFailureThrottle(options.Value.FailedAuthenticationsPerMinute);

/// <summary>
/// Failed authentications per client address: at most the given number in any sliding minute (six ten-second
/// segments). It is consulted before a credential is checked, so an address that spent its budget learns nothing
/// more, not even whether its next guess was right; callers at other addresses are untouched. IPv6 clients are
/// counted per /64, the smallest block a host is usually given. Idle addresses are forgotten.
/// </summary>
public class AuthFailureThrottle : IDisposable
{
    private const int Segments = 6;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly PartitionedRateLimiter<string> failures;

    protected AuthFailureThrottle(int perMinute)
    {
        var limit = new SlidingWindowRateLimiterOptions
        {
            PermitLimit = perMinute,
            Window = Window,
            SegmentsPerWindow = Segments,
            QueueLimit = 0,
        };
        failures = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetSlidingWindowLimiter(client, _ => limit));
    }

    /// <summary>Whether <paramref name="client"/> has no failures left; if so, when at the latest one frees (a segment's length).</summary>
    public bool IsLockedOut(string client, out TimeSpan retryAfter)
    {
        using var probe = failures.AttemptAcquire(client, 0);
        retryAfter = Window / Segments;
        return !probe.IsAcquired;
    }

    public void CountFailure(string client)
    {
        // The permit is the failure itself: it is never given back.
        using var _ = failures.AttemptAcquire(client, 1);
    }

    public static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    public void Dispose()
    {
        failures.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A credential scheme whose failures count against the caller's address (<see cref="AuthFailureThrottle"/>): an
/// address out of failures is answered 429 with Retry-After before its credential is looked at; a missing or wrong
/// credential is a 401 naming the scheme, a right one without the rights a 403. Problem bodies throughout.
/// </summary>
public abstract class ThrottledAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AuthFailureThrottle throttle)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private TimeSpan? throttledFor;

    /// <summary>The scheme word of the Authorization header, sent back in WWW-Authenticate.</summary>
    protected abstract string HeaderScheme { get; }

    /// <summary>What a 401 tells the caller to send.</summary>
    protected abstract string ChallengeDetail { get; }

    /// <summary>What a 403 tells the caller.</summary>
    protected abstract string ForbiddenDetail { get; }

    /// <summary>Checks the credential the request carries; <c>Failed</c> counts it against the address.</summary>
    protected abstract (AuthenticateResult Result, bool Failed) Check();

    /// <summary>The credentials of an Authorization header of <see cref="HeaderScheme"/> (case-insensitive, RFC 9110), or null.</summary>
    protected string? Presented()
    {
        var header = Request.Headers.Authorization.ToString();
        var prefix = HeaderScheme + " ";
        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var value = header[prefix.Length..].Trim();
        return value.Length == 0 ? null : value;
    }

    protected sealed override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var client = AuthFailureThrottle.ClientKey(Context.Connection.RemoteIpAddress);
        if (throttle.IsLockedOut(client, out var retryAfter))
        {
            throttledFor = retryAfter;
            return Task.FromResult(AuthenticateResult.Fail("too many failed authentications from this address"));
        }

        var (result, failed) = Check();
        if (failed)
        {
            throttle.CountFailure(client);
        }

        return Task.FromResult(result);
    }

    protected sealed override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (throttledFor is { } after)
        {
            Response.Headers.RetryAfter = AdminAuth.RetryAfter(after);
            return TypedResults.Problem("too many failed authentications from this address; retry later",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests").ExecuteAsync(Context);
        }

        Response.Headers.WWWAuthenticate = HeaderScheme;
        return TypedResults.Problem(ChallengeDetail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized").ExecuteAsync(Context);
    }

    protected sealed override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        TypedResults.Problem(ForbiddenDetail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden").ExecuteAsync(Context);
}

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c> against the configured admin tokens. A match authenticates the caller
/// with the token's scope and name (never its value); anything else counts against the caller's address.
/// </summary>
public sealed class AdminTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminTokens tokens, AdminAuthThrottle throttle)
    : ThrottledAuthenticationHandler(options, logger, encoder, throttle)
{
    protected override string HeaderScheme => "Bearer";

    protected override string ChallengeDetail => "a valid bearer token (Admin__Token or Admin__ReadToken) is required";

    protected override string ForbiddenDetail => "this token has the read scope; the request needs the write scope (Admin__Token)";

    protected override (AuthenticateResult Result, bool Failed) Check()
    {
        var presented = Presented();
        if (presented is not null && tokens.Match(presented) is { } token)
        {
            var identity = new ClaimsIdentity(
                [new Claim(AdminAuth.ScopeClaim, AdminAuth.Name(token.Scope)), new Claim(AdminAuth.TokenClaim, token.Name)], AdminAuth.Scheme);
            return (AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), AdminAuth.Scheme)), false);
        }

        return (presented is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail("invalid admin token"), true);
    }
}
