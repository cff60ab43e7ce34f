using System.Data.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Sol.Persistence;

namespace Sol.Server.Http;

/// <summary>
/// Every HTTP error gets the API's body (<c>{"error": "..."}</c>): the framework's own (a body that is not JSON or too
/// large, an unknown path or method) and an exception an endpoint did not handle. A database that is away or busy is
/// 503 with Retry-After and one warning line; anything else is 500 and logged with its stack (a bug).
/// </summary>
internal static class ErrorBodies
{
    public static void Use(WebApplication app, ILogger log)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away: nobody to answer, nothing wrong here.
            }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                var database = e is StoreUnavailableException or DbException or TimeoutException;
                if (database)
                {
                    log.LogWarning("HTTP {Method} {Path}: the database did not answer ({Reason}); answered 503", context.Request.Method, context.Request.Path, e.Message.ReplaceLineEndings(" "));
                }
                else
                {
                    log.LogError(e, "HTTP {Method} {Path} failed; answered 500", context.Request.Method, context.Request.Path);
                }
                context.Response.Clear();
                if (database)
                {
                    context.Response.Headers.RetryAfter = "5";
                }
                await AuthEndpoints.Error(
                    database ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
                    database ? "the game's database is not answering; try again later" : "internal error").ExecuteAsync(context).ConfigureAwait(false);
            }
        });
        app.UseStatusCodePages(context => AuthEndpoints.Error(context.HttpContext.Response.StatusCode, context.HttpContext.Response.StatusCode switch
        {
            StatusCodes.Status400BadRequest => "malformed request: the body must be the JSON object this endpoint takes",
            StatusCodes.Status404NotFound => "not found",
            StatusCodes.Status405MethodNotAllowed => "method not allowed",
            StatusCodes.Status413PayloadTooLarge => "request body too large (64 KiB at most)",
            StatusCodes.Status415UnsupportedMediaType => "the body must be JSON (Content-Type: application/json)",
            var code => ReasonPhrases.GetReasonPhrase(code) is { Length: > 0 } phrase ? phrase.ToLowerInvariant() : $"HTTP {code}",
        }).ExecuteAsync(context.HttpContext));
    }
}
