using System.Text;
using Sol.Transport.Frames;

namespace Sol.Transport.Tests.Frames;

public sealed class Utf8ValidatorTests
{
    public static TheoryData<byte[], bool> Samples() => new()
    {
        { Encoding.UTF8.GetBytes("plain ascii"), true },
        { Encoding.UTF8.GetBytes("κόσμε ünïcödé 日本語 🚀🎉"), true },
        { [0xC3, 0x28], false },
        { [0xE0, 0x80, 0x80], false },           // overlong
        { [0xED, 0xA0, 0x80], false },           // surrogate
        { [0xF4, 0x90, 0x80, 0x80], false },     // above U+10FFFF
        { [0xF8, 0x88, 0x80, 0x80, 0x80], false },
        { [0xC0, 0xAF], false },
        { [0x61, 0xE2, 0x82], false },           // truncated at the end
        { [0x80], false },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void AppendAgreesWithTheRuntimeAtEverySplitPoint(byte[] bytes, bool valid)
    {
        for (var split1 = 0; split1 <= bytes.Length; split1++)
        {
            for (var split2 = split1; split2 <= bytes.Length; split2++)
            {
                var validator = default(Utf8Validator);
                var ok = validator.Append(bytes.AsSpan(0, split1))
                    && validator.Append(bytes.AsSpan(split1, split2 - split1))
                    && validator.Append(bytes.AsSpan(split2))
                    && validator.IsComplete;
                Assert.True(valid == ok, $"split at {split1}/{split2}");
            }
        }
    }

    [Fact]
    public void AppendFailsFastOnAnImpossiblePrefix()
    {
        var validator = default(Utf8Validator);
        Assert.False(validator.Append([0x61, 0xED, 0xA0])); // a surrogate can never complete
        validator = default;
        Assert.False(validator.Append([0xF5]));
    }
}
