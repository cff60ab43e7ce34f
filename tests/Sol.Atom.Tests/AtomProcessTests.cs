using System.Diagnostics;
using Sol.Testing;

namespace Sol.Atom.Tests;

/// <summary>The real <c>atom</c> executable, started as a process: exit codes and streams as a shell sees them.</summary>
public sealed class AtomProcessTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task TheExecutableGeneratesIntoTheDefaultDatabaseInItsWorkingFolder()
    {
        var (code, output, error) = await RunAsync("generate", "--zones", "20", "--seed", "3", "--quiet");
        Assert.True(code == 0, error);
        Assert.Contains("generated galaxy 'main'", output, StringComparison.Ordinal);
        Assert.True(File.Exists(_directory.File("data/sol.db")));
    }

    [Fact]
    public async Task TheExecutableExitsWith2OnABadFlag()
    {
        var (code, _, error) = await RunAsync("generate", "--zones", "ten");
        Assert.Equal(2, code);
        Assert.StartsWith("atom: ", error, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var atom = Path.Combine(AppContext.BaseDirectory, "atom.dll");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _directory.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(atom);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    public void Dispose() => _directory.Dispose();
}
