using Microsoft.AspNetCore.Http;

namespace Sol.Server.Http;

/// <summary>The methods every read endpoint answers: GET, and HEAD (the same status and headers, no body; uptime monitors and caches ask with it).</summary>
internal static class ReadMethods
{
    public static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];
}
