using System.Security.Cryptography;
using System.Text;

namespace Bot.Hosting;

/// <summary>
/// Compares a presented secret (the webhook's secret token, an admin bearer token) with a configured one in constant
/// time: both are hashed first, so neither the content nor the length of the secret shows in the timing.
/// </summary>
public static class SecretHash
{
    public const int Size = SHA256.HashSizeInBytes;

    /// <summary>The hash a configured secret is kept as.</summary>
    public static byte[] Of(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Hashes what a caller presented into <paramref name="hash"/> (<see cref="Size"/> bytes).</summary>
    public static void Hash(ReadOnlySpan<char> presented, Span<byte> hash)
    {
        var length = Encoding.UTF8.GetByteCount(presented);
        var utf8 = length <= 4096 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(presented, utf8);
        SHA256.HashData(utf8, hash);
    }

    /// <summary>Whether two hashes are equal, in time that does not depend on where they differ.</summary>
    public static bool Equal(ReadOnlySpan<byte> presented, ReadOnlySpan<byte> expected) => CryptographicOperations.FixedTimeEquals(presented, expected);
}
