namespace Sol.Server.Assets;

/// <summary>One asset file held in memory.</summary>
public sealed record Asset(string Name, byte[] Bytes, string Sha256, string ContentType, string Url)
{
    /// <summary>The strong ETag: the quoted SHA-256.</summary>
    public string ETag => $"\"{Sha256}\"";

    /// <summary>Bytes made by the server (not a file of a folder), served as <paramref name="name"/> with no URL of their own.</summary>
    public static Asset Of(string name, byte[] bytes, string contentType) =>
        new(name, bytes, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), contentType, "");
}
