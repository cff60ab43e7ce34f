using Sol.Transport.Frames;

namespace Sol.Transport.Tests.Frames;

public sealed class MaskingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(1000)]
    [InlineData(65_537)]
    public void UnmaskMatchesTheScalarDefinitionFromEveryStartingOffset(int length)
    {
        byte[] mask = [0x12, 0x9A, 0xF0, 0x3C];
        var data = Support.ClientFrames.Pattern(length);
        for (var offset = 0; offset < 4; offset++)
        {
            var actual = (byte[])data.Clone();
            var next = Masking.Unmask(actual, Masking.ReadMask(mask), offset);

            Assert.Equal((offset + length) & 3, next);
            for (var i = 0; i < length; i++)
            {
                Assert.Equal((byte)(data[i] ^ mask[(offset + i) & 3]), actual[i]);
            }
        }
    }

    [Fact]
    public void UnmaskResumesAcrossPiecesOfAnyLength()
    {
        byte[] mask = [1, 2, 3, 4];
        var data = Support.ClientFrames.Pattern(500);
        var whole = (byte[])data.Clone();
        Masking.Unmask(whole, Masking.ReadMask(mask), 0);

        var pieces = (byte[])data.Clone();
        var offset = 0;
        var at = 0;
        foreach (var size in new[] { 1, 2, 3, 5, 7, 11, 13, 64, 65, 100, 229 })
        {
            offset = Masking.Unmask(pieces.AsSpan(at, size), Masking.ReadMask(mask), offset);
            at += size;
        }

        Assert.Equal(whole, pieces);
    }
}
