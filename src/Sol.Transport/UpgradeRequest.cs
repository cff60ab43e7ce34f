using System.Net;

namespace Sol.Transport;

/// <summary>
/// An upgrade request that passed the protocol checks, as the handler sees it. Built once per handshake (its strings
/// are allocated then; nothing here is on the message path).
/// </summary>
public sealed class UpgradeRequest
{
    private readonly Dictionary<string, string> _headers;
    private readonly string _query;

    internal UpgradeRequest(string path, string query, Dictionary<string, string> headers, string? subProtocol, EndPoint? remoteEndPoint)
    {
        Path = path;
        _query = query;
        _headers = headers;
        SubProtocol = subProtocol;
        RemoteEndPoint = remoteEndPoint;
        Origin = Header("Origin");
        Token = BearerToken(Header("Authorization")) ?? Query("access_token");
    }

    /// <summary>The request path, without the query.</summary>
    public string Path { get; }

    /// <summary>The token from <c>Authorization: Bearer X</c>, else the <c>access_token</c> query parameter, else null.</summary>
    public string? Token { get; }

    /// <summary>The <c>Origin</c> header, or null.</summary>
    public string? Origin { get; }

    /// <summary>The negotiated subprotocol (null when none).</summary>
    public string? SubProtocol { get; }

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The first value of the query parameter <paramref name="name"/>, percent-decoded, or null.</summary>
    public string? Query(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var rest = _query.AsSpan();
        while (!rest.IsEmpty)
        {
            var amp = rest.IndexOf('&');
            var pair = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? default : rest[(amp + 1)..];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? default : pair[(eq + 1)..];
            if (Decode(key) == name)
            {
                return Decode(value);
            }
        }
        return null;
    }

    /// <summary>The value of the header <paramref name="name"/> (case-insensitive; repeated headers joined with ", "), or null.</summary>
    public string? Header(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _headers.TryGetValue(name, out var value) ? value : null;
    }

    private static string Decode(ReadOnlySpan<char> text) => Uri.UnescapeDataString(text.ToString().Replace('+', ' '));

    private static string? BearerToken(string? authorization)
    {
        const string Scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = authorization[Scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}
