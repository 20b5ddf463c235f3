using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Bot.Features.MiniApp;

/// <summary>The Telegram user a validated initData names.</summary>
public sealed record InitDataUser(long Id, string FirstName, string? Username, string? LanguageCode, DateTimeOffset AuthDate);

/// <summary>Why an initData was refused (never echoed to the caller beyond this word).</summary>
public enum InitDataProblem
{
    None,
    Malformed,
    MissingHash,
    WrongHash,
    Expired,
    FromTheFuture,
    NoUser,
}

/// <summary>
/// Telegram.WebApp.initData, validated as the Bot API documents ("Validating data received via the Mini App"): the
/// fields of the query string except hash, URL-decoded, sorted by key and joined as key=value lines with "\n" are the
/// data-check-string; its HMAC-SHA-256 under the key HMAC-SHA-256("WebAppData", bot token) must be the hash (hex),
/// compared in constant time; and auth_date must be no older than the allowed age (and not ahead of the clock by more
/// than a minute's skew). Only then is the user field read.
/// </summary>
public static class InitData
{
    /// <summary>The longest initData accepted: Telegram's are a few hundred bytes.</summary>
    public const int MaxLength = 4096;

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>The secret key of a bot's initData: HMAC-SHA-256 of the token, keyed with "WebAppData".</summary>
    public static byte[] SecretKey(string botToken) => HMACSHA256.HashData("WebAppData"u8, Encoding.UTF8.GetBytes(botToken));

    public static (InitDataUser? User, InitDataProblem Problem) Validate(string? initData, byte[] secretKey, TimeSpan maxAge, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(initData) || initData.Length > MaxLength || Parse(initData) is not { } fields)
        {
            return (null, InitDataProblem.Malformed);
        }

        if (!fields.Remove("hash", out var hash) || hash.Length != 64)
        {
            return (null, hash is null ? InitDataProblem.MissingHash : InitDataProblem.WrongHash);
        }

        Span<byte> presented = stackalloc byte[32];
        if (Convert.FromHexString(hash, presented, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return (null, InitDataProblem.WrongHash);
        }

        var check = string.Join('\n', fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + "=" + f.Value));
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(secretKey, Encoding.UTF8.GetBytes(check), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            return (null, InitDataProblem.WrongHash);
        }

        if (!fields.TryGetValue("auth_date", out var authText) || !long.TryParse(authText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > 253402300799)
        {
            return (null, InitDataProblem.Malformed);
        }

        var authDate = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (authDate > now + ClockSkew)
        {
            return (null, InitDataProblem.FromTheFuture);
        }

        if (now - authDate > maxAge)
        {
            return (null, InitDataProblem.Expired);
        }

        return fields.TryGetValue("user", out var userJson) && ReadUser(userJson, authDate) is { } user
            ? (user, InitDataProblem.None)
            : (null, InitDataProblem.NoUser);
    }

    /// <summary>Signs <paramref name="fields"/> as Telegram does (for tests and the local fake): the query string with its hash.</summary>
    public static string Sign(IReadOnlyDictionary<string, string> fields, byte[] secretKey)
    {
        var check = string.Join('\n', fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + "=" + f.Value));
        var hash = Convert.ToHexStringLower(HMACSHA256.HashData(secretKey, Encoding.UTF8.GetBytes(check)));
        return string.Join('&', fields.Select(f => f.Key + "=" + Uri.EscapeDataString(f.Value))) + "&hash=" + hash;
    }

    /// <summary>The fields of a query string, decoded; null when a key repeats or a pair is not key=value.</summary>
    private static Dictionary<string, string>? Parse(string query)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&'))
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0)
            {
                return null;
            }

            string key, value;
            try
            {
                key = Uri.UnescapeDataString(pair[..equals].Replace('+', ' '));
                value = Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            }
            catch (UriFormatException)
            {
                return null;
            }

            if (!fields.TryAdd(key, value))
            {
                return null;
            }
        }

        return fields;
    }

    private static InitDataUser? ReadUser(string json, DateTimeOffset authDate)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || !id.TryGetInt64(out var userId) || userId <= 0)
            {
                return null;
            }

            return new InitDataUser(userId, Text(root, "first_name") ?? "", Text(root, "username"), Text(root, "language_code"), authDate);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
