using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sol.Testing;

/// <summary>
/// A PostgreSQL cluster of a test's own (initdb into a temp folder, trust auth, 127.0.0.1 on a free port), for tests
/// that stop and start the database under a running server. Needs the server binaries (scripts/test.sh installs them);
/// as root it runs them as the postgres user, as initdb requires.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private readonly string _bin;
    private readonly string _data;
    private readonly TempDirectory _directory = new();

    private PostgresCluster(string bin, int port)
    {
        _bin = bin;
        Port = port;
        _data = Path.Combine(_directory.Path, "data");
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=10";

    /// <summary>A new running cluster, or null when no PostgreSQL server binaries are installed.</summary>
    public static PostgresCluster? TryCreate()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        if (bin is null)
        {
            return null;
        }
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var cluster = new PostgresCluster(bin, port);
        if (Environment.UserName == "root")
        {
            Run("chown", "postgres", cluster._directory.Path);
        }
        cluster.AsPostgres("initdb", "-D", cluster._data, "--auth=trust", "-U", "postgres", "-E", "UTF8");
        cluster.Start();
        return cluster;
    }

    public void Start() => AsPostgres(
        "pg_ctl", "-D", _data, "-l", Path.Combine(_directory.Path, "server.log"), "-w", "-t", "30",
        "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_directory.Path} -c fsync=off", "start");

    public void Stop() => AsPostgres("pg_ctl", "-D", _data, "-m", "immediate", "-w", "stop");

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        _directory.Dispose();
    }

    private void AsPostgres(string tool, params string[] args)
    {
        var path = Path.Combine(_bin, tool);
        if (Environment.UserName == "root")
        {
            Run("runuser", ["-u", "postgres", "--", path, .. args]);
        }
        else
        {
            Run(path, args);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {error.Result}{output.Result}");
        }
    }
}
