using Sol.Core.Galaxy;

namespace Sol.Core.Tests;

public class IntRangeTests
{
    [Theory]
    [InlineData("1..6", 1, 6)]
    [InlineData("3", 3, 3)]
    [InlineData("-2..4", -2, 4)]
    public void ParsesRangesAndSingleNumbers(string text, int min, int max)
    {
        Assert.True(IntRange.TryParse(text, out var range));
        Assert.Equal(new IntRange(min, max), range);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData("1..")]
    [InlineData("..3")]
    public void RejectsMalformedText(string text) => Assert.False(IntRange.TryParse(text, out _));
}
