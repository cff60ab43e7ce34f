using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Sol.Transport.Handshake;

/// <summary><c>Sec-WebSocket-Accept</c> = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2), computed in stack buffers.</summary>
internal static class WebSocketAccept
{
    /// <summary>The length of the base64 answer (a 20-byte SHA-1).</summary>
    public const int Length = 28;

    private static ReadOnlySpan<byte> Guid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>A valid key is the base64 of exactly 16 bytes (24 characters).</summary>
    public static bool IsValidKey(string? key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key is { Length: 24 } && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    /// <summary>Writes the 28 ASCII bytes of the answer for a valid <paramref name="key"/> into <paramref name="destination"/>.</summary>
    public static void Compute(string key, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[24 + 36];
        Encoding.ASCII.GetBytes(key, input);
        Guid.CopyTo(input[24..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 is what RFC 6455 prescribes here; it protects nothing.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        Base64.EncodeToUtf8(hash, destination, out _, out _);
    }
}
