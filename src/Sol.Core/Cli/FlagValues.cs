using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Sol.Core.Cli;

/// <summary>
/// Number flags read one way whatever the machine's culture: invariant digits with no thousands separators (the
/// runtime's own parser takes "0,5" as 5), and one message naming the flag, its range and the text given for a value
/// that is not a number or out of range (not the runtime's message with a .NET type name in it). Shared by sol, atom
/// and loadgen.
/// </summary>
public static class FlagValues
{
    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> Whole(string name, string description, int min, int max, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Read(result, name, Range("a whole number", min, max), min, max, NumberStyles.Integer),
    };

    /// <summary>A number of seconds from <paramref name="min"/> to <paramref name="max"/>, '.' its decimal point.</summary>
    public static Option<double> Seconds(string name, string description, double min, double max, double defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Read(result, name, Range("a number of seconds", min, max), min, max, NumberStyles.Float),
    };

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/> (which may be infinity: no upper bound),
    /// '.' its decimal point; none when the flag is not given. Never infinite: "Infinity" as a threshold would turn its
    /// check off without a word.</summary>
    public static Option<double?> Optional(string name, string description, double min, double max) => new(name)
    {
        Description = description,
        CustomParser = result => Read(result, name, Range("a number", min, max), min, max, NumberStyles.Float),
    };

    /// <summary><c>--seed</c>: any unsigned 64-bit number; <paramref name="defaultValue"/> when not given (null: none).</summary>
    public static Option<ulong?> Seed(string description, ulong? defaultValue = null)
    {
        var option = new Option<ulong?>("--seed")
        {
            Description = description,
            CustomParser = result => Read(result, "--seed", Range("a whole number", 0UL, ulong.MaxValue), 0UL, ulong.MaxValue, NumberStyles.Integer),
        };
        if (defaultValue is { } seed)
        {
            option.DefaultValueFactory = _ => seed;
        }
        return option;
    }

    /// <summary>The flag's one token as a finite <typeparamref name="T"/> from <paramref name="min"/> to
    /// <paramref name="max"/>, else an error saying <paramref name="range"/> (and, for a decimal with a comma, to write a
    /// '.').</summary>
    private static T Read<T>(ArgumentResult result, string name, string range, T min, T max, NumberStyles styles)
        where T : INumber<T>
    {
        var text = Text(result);
        if (T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value) && T.IsFinite(value) && value >= min && value <= max)
        {
            return value;
        }
        var comma = styles.HasFlag(NumberStyles.AllowDecimalPoint) && text.Contains(',', StringComparison.Ordinal) ? "; write decimals with a '.'" : "";
        result.AddError($"{name} must be {range} (got '{text}'{comma})");
        return T.Zero;
    }

    /// <summary>"a number from 0 to 10", or "a number of at least 0" with no upper bound.</summary>
    private static string Range<T>(string what, T min, T max)
        where T : INumber<T> =>
        T.IsPositiveInfinity(max)
            ? string.Create(CultureInfo.InvariantCulture, $"{what} of at least {min}")
            : string.Create(CultureInfo.InvariantCulture, $"{what} from {min} to {max}");

    /// <summary>
    /// "--flag is given more than once" for each of <paramref name="options"/> that takes one value and appears more
    /// than once. The parser refuses two values itself, but takes <c>--tick-rate 30 --tick-rate</c> (the second one
    /// with no value) as 30.
    /// </summary>
    private static List<string> Repeated(ParseResult parse, IEnumerable<Option> options)
    {
        var repeated = new List<string>();
        foreach (var option in options)
        {
            if (option.Arity.MaximumNumberOfValues == 1 && parse.GetResult(option) is { IdentifierTokenCount: > 1 })
            {
                repeated.Add(option.Name);
            }
        }
        return repeated;
    }

    /// <summary>
    /// The parse's errors and <paramref name="options"/> given more than once, as one line (a repeated flag's own error
    /// from the parser, two values, says no more than that it is repeated); null when there are none.
    /// </summary>
    public static string? Problems(ParseResult parse, IEnumerable<Option> options)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(options);
        var repeated = Repeated(parse, options);
        if (parse.Errors.Count == 0 && repeated.Count == 0)
        {
            return null;
        }
        return string.Join("; ", repeated.Select(flag => $"{flag} is given more than once")
            .Concat(parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Replace('\t', ' '))
                .Where(m => !repeated.Any(flag => m.Contains($"'{flag}'", StringComparison.Ordinal) || m.StartsWith(flag + " ", StringComparison.Ordinal)))));
    }

    /// <summary><c>help [COMMAND]</c> as <c>[COMMAND] --help</c>; other arguments as they are.</summary>
    public static string[] HelpCommand(string[] args) => args is ["help", .. var rest] ? [.. rest, "--help"] : args;

    private static string Text(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
}
