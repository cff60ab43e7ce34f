using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sol.Persistence;
using Sol.Server.Http;

namespace Sol.Server.Tests;

/// <summary>An exception an endpoint does not handle answers with the API's error body (before: 500, empty, helper-58).</summary>
public sealed class ErrorBodiesTests
{
    [Theory]
    [InlineData("/database", HttpStatusCode.ServiceUnavailable, "the game's database is not answering; try again later")]
    [InlineData("/bug", HttpStatusCode.InternalServerError, "internal error")]
    [InlineData("/nothing-here", HttpStatusCode.NotFound, "not found")]
    public async Task AnErrorIsAJsonBodyAndOneLogLine(string path, HttpStatusCode status, string error)
    {
        var log = new ListLogger();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        ErrorBodies.Use(app, log);
        app.MapGet("/database", string () => throw new StoreUnavailableException("database is locked (test)"));
        app.MapGet("/bug", string () => throw new InvalidOperationException("a bug (test)"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        using var response = await http.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(error, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        switch (status)
        {
            case HttpStatusCode.ServiceUnavailable:
                Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter!.Delta);
                Assert.Contains("database is locked (test)", Assert.Single(log.Warnings), StringComparison.Ordinal);
                Assert.Equal(0, log.WithException); // one line, no stack trace
                break;
            case HttpStatusCode.InternalServerError:
                Assert.Contains("GET /bug failed", Assert.Single(log.Warnings), StringComparison.Ordinal);
                Assert.Equal(1, log.WithException); // a bug: with its stack
                break;
        }
        await app.StopAsync();
    }
}
