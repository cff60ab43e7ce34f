using Sol.Transport.Sockets;

namespace Sol.Transport.Tests.Connection;

public sealed class BlockMemoryPoolTests
{
    [Fact]
    public async Task BlocksReturnedOnAnotherThreadAreRentedAgainWithoutCreatingNewOnes()
    {
        var pool = new BlockMemoryPool();
        var first = Enumerable.Range(0, 500).Select(_ => pool.Rent(100)).ToList();
        Assert.Equal(500, pool.Created);
        await Task.Run(() => first.ForEach(b => b.Dispose())); // returned by a thread-pool thread, as pipes do
        var second = await Task.Run(() => Enumerable.Range(0, 500).Select(_ => pool.Rent()).ToList());
        Assert.Equal(500, pool.Created);
        Assert.All(second, b => Assert.Equal(BlockMemoryPool.BlockSize, b.Memory.Length));
        second.ForEach(b => b.Dispose());
    }

    [Fact]
    public void ABlockDisposedTwiceIsPooledOnce()
    {
        var pool = new BlockMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();
        var a = pool.Rent();
        var b = pool.Rent();
        Assert.NotSame(a, b);
        Assert.Equal(2, pool.Created);
    }

    [Fact]
    public void ARequestLargerThanABlockIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockMemoryPool().Rent(BlockMemoryPool.BlockSize + 1));
}
