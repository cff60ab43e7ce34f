namespace Sol.Transport.Handshake;

/// <summary>A parsed HTTP/1.1 request head: the request line and the headers (names case-insensitive, repeats joined with ", ").</summary>
internal sealed class RequestHead
{
    public RequestHead(string method, string target, string version, Dictionary<string, string> headers)
    {
        Method = method;
        Target = target;
        Version = version;
        Headers = headers;
    }

    public string Method { get; }

    public string Target { get; }

    public string Version { get; }

    public Dictionary<string, string> Headers { get; }

    public string? this[string name] => Headers.TryGetValue(name, out var value) ? value : null;
}
