using System.CommandLine;
using Sol.Atom.Commands;
using Sol.Core.Cli;

namespace Sol.Atom;

/// <summary>
/// The <c>atom</c> command line: generate galaxies into a store, list, inspect and export them.
/// Exit codes: 0 done; 1 the database could not be reached or the work failed; 2 bad input (unknown option, impossible
/// parameters, a taken name without <c>--replace</c>, an unknown galaxy).
/// </summary>
public static class AtomCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    /// <summary>Runs <c>atom</c> with <paramref name="args"/>, writing results to <paramref name="output"/> and messages to <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("atom: generates Sol galaxies into a database, and lists, inspects and exports them.")
        {
            GenerateCommand.Create(output, error),
            ListCommand.Create(output, error),
            InspectCommand.Create(output, error),
            ExportCommand.Create(output, error),
        };
        // "atom help [COMMAND]" is "atom [COMMAND] --help".
        var parse = root.Parse(FlagValues.HelpCommand(args));
        if (FlagValues.Problems(parse, parse.CommandResult.Command.Options) is { } messages)
        {
            var command = parse.CommandResult.Command == root ? "atom" : $"atom {parse.CommandResult.Command.Name}";
            await error.WriteLineAsync($"atom: {messages} (see '{command} --help')").ConfigureAwait(false);
            return BadInput;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
    }
}
