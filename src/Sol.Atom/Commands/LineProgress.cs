using System.Diagnostics;
using System.Globalization;

namespace Sol.Atom.Commands;

/// <summary>Progress as timestamped lines on stderr, written synchronously so they appear in order.</summary>
internal sealed class LineProgress(TextWriter error, Stopwatch clock) : IProgress<string>
{
    public void Report(string value) => error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:0.00}s] {value}"));
}
