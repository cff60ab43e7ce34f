using System.Text;
using Sol.Core.Mathematics;

namespace Sol.Core.Galaxy;

/// <summary>Pronounceable, unique system names from syllables ("Voranis", "Kethul Prime"), deterministic per seed.</summary>
internal static class SystemNames
{
    private static readonly string[] s_starts =
    [
        "Ka", "Ve", "Zor", "Tal", "Or", "Mi", "Syl", "Dra", "Neb", "Ul", "Ris", "Tho", "Aq", "Bel", "Cy", "Eph",
        "Gal", "Hy", "Ix", "Jo", "Kes", "Lyr", "Mor", "Nox", "Oph", "Pra", "Qua", "Sar", "Tyr", "Vos", "Xen", "Yar",
    ];

    private static readonly string[] s_middles =
    [
        "ra", "le", "no", "vi", "ta", "ri", "ssa", "the", "lo", "ma", "ne", "ka", "du", "si", "ro", "phi", "",
    ];

    private static readonly string[] s_ends =
    [
        "nis", "ria", "tar", "on", "us", "ax", "eon", "ith", "ara", "os", "ul", "en", "is", "or", "ion", "ae",
    ];

    private static readonly string[] s_suffixes = ["Prime", "Major", "Minor", "Reach", "Drift", "Gate", "Deep", "Hold"];

    public static string[] Create(int count, ulong seed)
    {
        var random = DeterministicRandom.ForStream(seed, 2);
        var names = new string[count];
        var taken = new HashSet<string>(count, StringComparer.Ordinal);
        var builder = new StringBuilder(24);
        for (var i = 0; i < count; i++)
        {
            string name;
            var attempt = 0;
            do
            {
                builder.Clear();
                builder.Append(s_starts[random.NextInt(0, s_starts.Length - 1)]);
                builder.Append(s_middles[random.NextInt(0, s_middles.Length - 1)]);
                builder.Append(s_ends[random.NextInt(0, s_ends.Length - 1)]);
                if (attempt >= 2)
                {
                    builder.Append(' ').Append(s_suffixes[random.NextInt(0, s_suffixes.Length - 1)]);
                }
                if (attempt >= 4)
                {
                    // The syllable space is ~80k names x 8 suffixes; past that, a number keeps names unique.
                    builder.Append(' ').Append(i + 1);
                }
                name = builder.ToString();
                attempt++;
            }
            while (!taken.Add(name));
            names[i] = name;
        }
        return names;
    }
}
