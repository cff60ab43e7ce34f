using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

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
        CustomParser = result =>
        {
            var text = Text(result);
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number from {min} to {max} (got '{text}')"));
            return default;
        },
    };

    /// <summary>A number of seconds from <paramref name="min"/> to <paramref name="max"/>, '.' its decimal point.</summary>
    public static Option<double> Seconds(string name, string description, double min, double max, double defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = Text(result);
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
            var comma = text.Contains(',', StringComparison.Ordinal) ? "; write decimals with a '.'" : "";
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number of seconds from {min} to {max} (got '{text}'{comma})"));
            return default;
        },
    };

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/> (which may be infinity: no upper bound),
    /// '.' its decimal point; none when the flag is not given.</summary>
    public static Option<double?> Optional(string name, string description, double min, double max) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = Text(result);
            // Finite: "Infinity" as a threshold would turn its check off without a word.
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max)
            {
                return value;
            }
            var comma = text.Contains(',', StringComparison.Ordinal) ? "; write decimals with a '.'" : "";
            var range = double.IsPositiveInfinity(max) ? $"of at least {min}" : $"from {min} to {max}";
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number {range} (got '{text}'{comma})"));
            return null;
        },
    };

    /// <summary><c>--seed</c>: any unsigned 64-bit number; <paramref name="defaultValue"/> when not given (null: none).</summary>
    public static Option<ulong?> Seed(string description, ulong? defaultValue = null)
    {
        var option = new Option<ulong?>("--seed")
        {
            Description = description,
            CustomParser = result =>
            {
                var text = Text(result);
                if (ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }
                result.AddError($"--seed must be a whole number from 0 to {ulong.MaxValue.ToString(CultureInfo.InvariantCulture)} (got '{text}')");
                return null;
            },
        };
        if (defaultValue is { } seed)
        {
            option.DefaultValueFactory = _ => seed;
        }
        return option;
    }

    /// <summary>
    /// "--flag is given more than once" for each of <paramref name="options"/> that takes one value and appears more
    /// than once. The parser refuses two values itself, but takes <c>--tick-rate 30 --tick-rate</c> (the second one
    /// with no value) as 30.
    /// </summary>
    public static List<string> Repeated(ParseResult parse, IEnumerable<Option> options)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(options);
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
