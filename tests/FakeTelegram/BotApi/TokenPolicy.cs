using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace FakeTelegram;

/// <summary>Which tokens get in. Tokens are secrets: records keep only the bot id and a short hash.</summary>
internal sealed partial class TokenPolicy(IReadOnlyCollection<string> accepted)
{
    private readonly HashSet<string>? accepted = accepted.Count == 0 ? null : new HashSet<string>(accepted, StringComparer.Ordinal);

    public bool Accepts(string token) => accepted?.Contains(token) ?? WellFormed().IsMatch(token);

    public static long BotId(string token)
    {
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && long.TryParse(token.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0;
    }

    /// <summary>The first 12 hex digits of the token's SHA-256: enough to tell tokens apart, useless to call with.</summary>
    public static string Fingerprint(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)).AsSpan(0, 6));

    [GeneratedRegex(@"^[0-9]{1,20}:[A-Za-z0-9_-]{1,256}$", RegexOptions.CultureInvariant)]
    private static partial Regex WellFormed();
}
