using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Server.Hosting;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>A real server started in-process on 127.0.0.1 port 0, with a small galaxy in a temp SQLite file (or a PostgreSQL database).</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string Secret = "test-secret-test-secret-test-secret-0123456789";

    private readonly TempDirectory _directory;

    private TestServer(SolServer server, TempDirectory directory)
    {
        Server = server;
        _directory = directory;
        Http = new HttpClient { BaseAddress = server.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A token service like the server's (its secret and its galaxy's audience), with <paramref name="lifetime"/>.</summary>
    public Auth.TokenService Tokens(TimeSpan? lifetime = null) =>
        new(System.Text.Encoding.UTF8.GetBytes(Secret), lifetime ?? TimeSpan.FromHours(1), audience: Auth.TokenService.AudienceFor(Server.GalaxyId));

    public SolServer Server { get; }

    public HttpClient Http { get; }

    public string DataDirectory => _directory.Path;

    public static async Task<TestServer> StartAsync(string? database = null, Func<ServerOptions, ServerOptions>? configure = null, ILoggerFactory? loggers = null)
    {
        var directory = new TempDirectory();
        var options = new ServerOptions
        {
            Http = new IPEndPoint(IPAddress.Loopback, 0),
            Game = new IPEndPoint(IPAddress.Loopback, 0),
            Database = database ?? directory.File("data/sol.db"),
            JwtSecret = Secret,
            DefaultGalaxyZones = 12,
            ZoneWorkers = 2,
            PinThreads = false,
            DataDirectory = directory.File("data"),
        };
        options = configure?.Invoke(options) ?? options;
        try
        {
            return new TestServer(await SolServer.StartAsync(options, loggers ?? NullLoggerFactory.Instance), directory);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    public async Task<TokenReply> GuestAsync(string deviceId)
    {
        using var response = await Http.PostAsJsonAsync("/api/auth/guest", new { deviceId });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenReply>())!;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }
}

public sealed record TokenReply(string Token, DateTimeOffset ExpiresAt, Guid PlayerId);
