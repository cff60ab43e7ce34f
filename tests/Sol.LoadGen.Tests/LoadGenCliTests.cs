using System.Diagnostics;

namespace Sol.LoadGen.Tests;

public class LoadGenCliTests
{
    [Theory]
    [InlineData("--bots must be at least 1", "--bots", "0")]
    [InlineData("Cannot parse argument 'many'", "--bots", "many")]
    [InlineData("--ramp: 'soon' is not a duration", "--ramp", "soon")]
    [InlineData("--duration: '-3s' is not a duration", "--duration", "-3s")]
    [InlineData("'flying' not recognized", "--scenario", "flying")]
    [InlineData("--mix: unknown scenario 'dance'", "--mix", "dance=1")]
    [InlineData("--mix: the weights add up to zero", "--mix", "idle=0")]
    [InlineData("--http: 'nowhere' is not a http:// URL", "--http", "nowhere")]
    [InlineData("--game: 'http://x' is not a ws:// URL", "--game", "http://x")]
    [InlineData("--input-rate must be 1..120", "--input-rate", "500")]
    [InlineData("--assert-p99-ms cannot be negative", "--assert-p99-ms", "-1")]
    [InlineData("'xml' not recognized", "--report", "xml")]
    [InlineData("Unrecognized command or argument '--turbo'", "--turbo")]
    public async Task BadArgumentsAreOneLineAndExitCode2(string expected, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(2, await LoadGenCli.RunAsync(args, output, error));
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Trim().Split('\n'));
    }

    [Fact]
    public async Task AnUnreachableServerIsAClearErrorNotAHang()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        var code = await LoadGenCli.RunAsync(["--http", "http://127.0.0.1:1", "--game", "ws://127.0.0.1:1/ws", "--bots", "5", "--connect-timeout", "3s"], output, error);
        Assert.Equal(1, code);
        Assert.StartsWith("loadgen: cannot reach the server at http://127.0.0.1:1/", error.ToString(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("10s", 10)]
    [InlineData("2m", 120)]
    [InlineData("1.5h", 5400)]
    [InlineData("7", 7)]
    public void DurationsParse(string text, double seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), LoadGenCli.Duration(text, "--x"));

    [Fact]
    public void MixWeightsParse() => Assert.Equal((1, 0, 3), LoadGenCli.Mix("idle=1, travel=3"));
}
