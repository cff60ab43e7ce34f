using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Sol.Transport.Handshake;

/// <summary>Writes the handshake's answers into the pipe: <c>101</c> (no allocation) or a rejection (text/plain, <c>Connection: close</c>).</summary>
internal static class HandshakeResponses
{
    public static void WriteSwitchingProtocols(PipeWriter output, string key, string? subProtocol)
    {
        output.Write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "u8);
        Span<byte> accept = stackalloc byte[WebSocketAccept.Length];
        WebSocketAccept.Compute(key, accept);
        output.Write(accept);
        if (subProtocol is not null)
        {
            output.Write("\r\nSec-WebSocket-Protocol: "u8);
            var span = output.GetSpan(subProtocol.Length);
            var written = Encoding.ASCII.GetBytes(subProtocol, span);
            output.Advance(written);
        }
        output.Write("\r\n\r\n"u8);
    }

    public static void WriteRejection(PipeWriter output, int status, string reason)
    {
        var body = Encoding.UTF8.GetBytes(reason);
        var head = new StringBuilder()
            .Append("HTTP/1.1 ").Append(status).Append(' ').Append(ReasonPhrase(status)).Append("\r\n")
            .Append("Content-Type: text/plain; charset=utf-8\r\n")
            .Append("Content-Length: ").Append(body.Length).Append("\r\n")
            .Append("Connection: close\r\n");
        if (status == 426)
        {
            head.Append("Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
        }
        if (status == 405)
        {
            head.Append("Allow: GET\r\n");
        }
        head.Append("\r\n");
        output.Write(Encoding.ASCII.GetBytes(head.ToString()));
        output.Write(body);
    }

    public static string ReasonPhrase(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
}
