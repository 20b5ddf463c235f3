using Bot.Hosting;

namespace Bot.Ingest;

/// <summary>
/// Checks X-Telegram-Bot-Api-Secret-Token in constant time (<see cref="SecretHash"/>).
/// </summary>
public sealed class WebhookSecret
{
    private readonly byte[] expectedHash;

    public WebhookSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        expectedHash = SecretHash.Of(secret);
    }

    public bool Matches(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || presented.Length > 1024)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SecretHash.Size];
        SecretHash.Hash(presented, hash);
        return SecretHash.Equal(hash, expectedHash);
    }
}
