using System.Globalization;

namespace Sol.Core.Galaxy;

/// <summary>An inclusive range of whole numbers, written <c>MIN..MAX</c> on the command line (or one number).</summary>
public readonly record struct IntRange(int Min, int Max)
{
    /// <summary>True when <see cref="Min"/> is not above <see cref="Max"/>.</summary>
    public bool IsOrdered => Min <= Max;

    /// <summary>True when <paramref name="value"/> lies in the range.</summary>
    public bool Contains(int value) => value >= Min && value <= Max;

    /// <summary>Parses <c>MIN..MAX</c> or a single number <c>N</c> (meaning <c>N..N</c>).</summary>
    public static bool TryParse(string? text, out IntRange range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var dots = text.IndexOf("..", StringComparison.Ordinal);
        if (dots < 0)
        {
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var single))
            {
                return false;
            }
            range = new IntRange(single, single);
            return true;
        }
        if (int.TryParse(text.AsSpan(0, dots), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var min) &&
            int.TryParse(text.AsSpan(dots + 2), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var max))
        {
            range = new IntRange(min, max);
            return true;
        }
        return false;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Min}..{Max}");
}
