using System.CommandLine;
using System.CommandLine.Parsing;
using System.Data.Common;
using Sol.Core.Galaxy;
using Sol.Persistence;

namespace Sol.Atom.Commands;

/// <summary>Options and error handling shared by the <c>atom</c> commands.</summary>
internal static class CommonOptions
{
    public const string DefaultGalaxy = "main";

    public static Option<string> Database()
    {
        var option = new Option<string>("--db")
        {
            Description = "The database: a SQLite file path, or a postgresql:// / cockroachdb:// URL (CockroachDB or PostgreSQL)",
            DefaultValueFactory = _ => SolStore.DefaultDatabase,
        };
        option.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--db cannot be empty (give a SQLite file path, or a postgresql:// or cockroachdb:// URL)");
            }
        });
        return option;
    }

    public static Option<string> Name(bool required) => new("--name")
    {
        Description = "The galaxy's name",
        Required = required,
        DefaultValueFactory = required ? null : _ => DefaultGalaxy,
    };

    public static Option<IntRange> Range(string name, string description, IntRange defaultValue) => new(name)
    {
        Description = $"{description} (MIN..MAX or N)",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseRange,
    };

    /// <summary>
    /// Runs a command body with the store open, turning the failures an operator can act on into one line and an exit
    /// code: bad input is 2; an unreachable database, a database error while the work runs (a malformed SQLite file, a
    /// PostgreSQL command timeout), corrupt data (a galaxy failing its hash check) or output that cannot be written is 1.
    /// Without <paramref name="create"/> (the commands that only read) a SQLite file that does not exist is bad input:
    /// opening it would make it, and its folder. With <paramref name="exclusive"/> (replacing a galaxy) a SQLite file a
    /// running server holds is refused: the server would go on serving the galaxy deleted under it.
    /// </summary>
    public static async Task<int> WithStoreAsync(string database, bool create, TextWriter error, Func<ISolStore, Task<int>> body, CancellationToken cancellationToken, bool exclusive = false)
    {
        string? where = null;
        try
        {
            if (!create && DatabaseAddress.Parse(database) is { Kind: DatabaseKind.Sqlite } sqlite && !File.Exists(sqlite.Target))
            {
                await error.WriteLineAsync($"atom: no database at {Path.GetFullPath(sqlite.Target)} (create one with 'atom generate')").ConfigureAwait(false);
                return AtomCli.BadInput;
            }
            await using var store = await SolStore.OpenAsync(database, exclusive, cancellationToken).ConfigureAwait(false);
            where = store.Description;
            return await body(store).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            await error.WriteLineAsync($"atom: {OneLine(e.Message)}").ConfigureAwait(false);
            return AtomCli.Failed;
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync($"atom: {OneLine(e.Message)}").ConfigureAwait(false);
            return AtomCli.BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("atom: cancelled; nothing was published").ConfigureAwait(false);
            return AtomCli.Failed;
        }
        catch (Exception e) when (e is DbException or TimeoutException && IsTimeout(e))
        {
            await error.WriteLineAsync($"atom: the database {where ?? "(opening)"} did not answer in time: {OneLine(Innermost(e).Message)}").ConfigureAwait(false);
            return AtomCli.Failed;
        }
        catch (DbException e)
        {
            await error.WriteLineAsync($"atom: database error in {where ?? "(opening)"}: {OneLine(e.Message)}").ConfigureAwait(false);
            return AtomCli.Failed;
        }
        catch (InvalidDataException e)
        {
            await error.WriteLineAsync($"atom: {OneLine(e.Message)}").ConfigureAwait(false);
            return AtomCli.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Writing the result failed (stdout on a full disk, a closed pipe).
            await error.WriteLineAsync($"atom: cannot write the output: {OneLine(e.Message)}").ConfigureAwait(false);
            return AtomCli.Failed;
        }
    }

    /// <summary>A message fit for one line of stderr.</summary>
    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Replace('\t', ' ').Trim();

    private static bool IsTimeout(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException)
            {
                return true;
            }
        }
        return false;
    }

    private static Exception Innermost(Exception error)
    {
        var e = error;
        while (e.InnerException is { } inner)
        {
            e = inner;
        }
        return e;
    }

    public static async Task<int> UnknownGalaxyAsync(TextWriter error, string name)
    {
        await error.WriteLineAsync($"atom: no galaxy named '{name}' (see 'atom list')").ConfigureAwait(false);
        return AtomCli.BadInput;
    }

    private static IntRange ParseRange(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (IntRange.TryParse(text, out var range))
        {
            return range;
        }
        result.AddError($"{((OptionResult)result.Parent!).Option.Name}: '{text}' is not a range (use MIN..MAX, e.g. 1..6, or one number)");
        return default;
    }
}
