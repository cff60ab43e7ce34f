namespace Sol.Server.Assets;

/// <summary>One asset file held in memory.</summary>
public sealed record Asset(string Name, byte[] Bytes, string Sha256, string ContentType, string Url)
{
    /// <summary>The strong ETag: the quoted SHA-256.</summary>
    public string ETag => $"\"{Sha256}\"";
}
