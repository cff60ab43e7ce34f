using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Sol.Core.Galaxy;

/// <summary>
/// The content hash of a galaxy: SHA-256 over a canonical little-endian encoding of every system, star, planet and
/// gate (doubles by their exact bits, with -0 as +0; names as UTF-8). The name and creation time are not content. A galaxy read back
/// from any store hashes the same as the one generated, which is how tests prove a store loses nothing.
/// </summary>
public static class GalaxyHash
{
    public static string Compute(GalaxyModel galaxy)
    {
        ArgumentNullException.ThrowIfNull(galaxy);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[64];
        Span<byte> text = stackalloc byte[256];

        WriteCount(hash, buffer, galaxy.Systems.Length);
        foreach (ref readonly var s in galaxy.Systems.AsSpan())
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, s.Id);
            WriteDouble(buffer[4..], s.X);
            WriteDouble(buffer[12..], s.Y);
            hash.AppendData(buffer[..20]);
            AppendName(hash, text, s.Name);
        }
        WriteCount(hash, buffer, galaxy.Stars.Length);
        foreach (ref readonly var s in galaxy.Stars.AsSpan())
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, s.Id);
            BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], s.SystemId);
            WriteDouble(buffer[8..], s.X);
            WriteDouble(buffer[16..], s.Y);
            WriteDouble(buffer[24..], s.Radius);
            WriteDouble(buffer[32..], s.Mass);
            WriteDouble(buffer[40..], s.DamageRadius);
            hash.AppendData(buffer[..48]);
        }
        WriteCount(hash, buffer, galaxy.Planets.Length);
        foreach (ref readonly var p in galaxy.Planets.AsSpan())
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, p.Id);
            BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], p.SystemId);
            WriteDouble(buffer[8..], p.Radius);
            WriteDouble(buffer[16..], p.OrbitRadius);
            WriteDouble(buffer[24..], p.Period);
            WriteDouble(buffer[32..], p.Phase);
            hash.AppendData(buffer[..40]);
            AppendName(hash, text, p.Name);
        }
        WriteCount(hash, buffer, galaxy.Gates.Length);
        foreach (ref readonly var g in galaxy.Gates.AsSpan())
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, g.Id);
            BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], g.SystemId);
            WriteDouble(buffer[8..], g.X);
            WriteDouble(buffer[16..], g.Y);
            BinaryPrimitives.WriteInt32LittleEndian(buffer[24..], g.TargetSystemId);
            BinaryPrimitives.WriteInt32LittleEndian(buffer[28..], g.PartnerGateId);
            hash.AppendData(buffer[..32]);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Doubles by their bits, except that -0 counts as +0: they are the same position, and SQLite stores a REAL zero as
    /// the integer 0, so -0 does not survive a round trip there.
    /// </summary>
    private static void WriteDouble(Span<byte> destination, double value) =>
        BinaryPrimitives.WriteDoubleLittleEndian(destination, value == 0 ? 0.0 : value);

    private static void WriteCount(IncrementalHash hash, Span<byte> buffer, int count)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer, count);
        hash.AppendData(buffer[..4]);
    }

    private static void AppendName(IncrementalHash hash, Span<byte> text, string name)
    {
        // Length-prefixed so that ("ab","c") and ("a","bc") differ. Names are short; longer ones are hashed in pieces.
        var length = Encoding.UTF8.GetByteCount(name);
        BinaryPrimitives.WriteInt32LittleEndian(text, length);
        hash.AppendData(text[..4]);
        if (length <= text.Length)
        {
            var written = Encoding.UTF8.GetBytes(name, text);
            hash.AppendData(text[..written]);
        }
        else
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name));
        }
    }
}
