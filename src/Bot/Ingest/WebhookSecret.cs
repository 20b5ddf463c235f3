using System.Security.Cryptography;
using System.Text;

namespace Bot.Ingest;

/// <summary>
/// Checks X-Telegram-Bot-Api-Secret-Token in constant time. Both sides are hashed first so that neither the
/// content nor the length of the secret shows in the timing.
/// </summary>
public sealed class WebhookSecret
{
    private readonly byte[] expectedHash;

    public WebhookSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    public bool Matches(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || presented.Length > 1024)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(presented.Length)];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return CryptographicOperations.FixedTimeEquals(hash, expectedHash);
    }
}
