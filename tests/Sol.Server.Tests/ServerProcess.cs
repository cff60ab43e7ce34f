using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Sol.Testing;

namespace Sol.Server.Tests;

/// <summary>The real <c>sol</c> executable as a child process, for what only a process can show: signals and kills.</summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public Uri Http { get; private set; } = null!;

    public int GamePort { get; private set; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static Task<ServerProcess> StartAsync(string directory, params string[] flags) => StartAsync(directory, openFileLimit: null, flags);

    /// <param name="openFileLimit">The process's open-file limit (<c>ulimit -n</c>, soft and hard); null: this process's.</param>
    public static async Task<ServerProcess> StartAsync(string directory, int? openFileLimit, params string[] flags)
    {
        var server = Launch(directory, openFileLimit, flags);
        await Eventually.TrueAsync(() => server.Output.Contains("game port on ws://", StringComparison.Ordinal) || server._process.HasExited, TimeSpan.FromSeconds(60), "sol to listen");
        var match = Listening().Match(server.Output);
        Assert.True(match.Success, server.Output);
        server.Http = new Uri(match.Groups["http"].Value);
        server.GamePort = int.Parse(match.Groups["game"].Value, System.Globalization.CultureInfo.InvariantCulture);
        return server;
    }

    /// <summary>Runs a server that is expected not to start: its exit code and everything it wrote.</summary>
    public static async Task<(int Code, string Output)> RunToExitAsync(string directory, int? openFileLimit, double seconds, params string[] flags)
    {
        await using var server = Launch(directory, openFileLimit, flags);
        var code = await server.WaitForExitAsync(seconds);
        server._process.WaitForExit(); // the redirected output read to its end
        return (code, server.Output);
    }

    private static ServerProcess Launch(string directory, int? openFileLimit, string[] flags)
    {
        var start = new ProcessStartInfo(openFileLimit is null ? "dotnet" : "bash") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        if (openFileLimit is { } limit)
        {
            foreach (var a in (string[])["-c", "ulimit -n \"$0\" && exec \"$@\"", limit.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet"])
            {
                start.ArgumentList.Add(a);
            }
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sol.dll"));
        foreach (var f in (string[])["serve", "--http", "127.0.0.1:0", "--game", "127.0.0.1:0", "--db", Path.Combine(directory, "sol.db"), .. flags])
        {
            start.ArgumentList.Add(f);
        }
        start.Environment["SOL_JWT_SECRET"] = TestServer.Secret;
        var server = new ServerProcess(Process.Start(start)!);
        server._process.OutputDataReceived += (_, e) => server.Add(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Add(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    public async Task<TokenReply> GuestAsync(string device)
    {
        using var http = new HttpClient { BaseAddress = Http };
        using var response = await http.PostAsJsonAsync("/api/auth/guest", new { deviceId = device });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenReply>())!;
    }

    /// <summary>SIGTERM, as a service manager stops it.</summary>
    public void Terminate() => _ = Kill(_process.Id, 15);

    /// <summary>SIGKILL: no chance to save anything.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async Task<int> WaitForExitAsync(double seconds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"HTTP API on (?<http>http://[0-9.:]+)/?, game port on ws://[0-9.]+:(?<game>\d+)/ws")]
    private static partial Regex Listening();
}
