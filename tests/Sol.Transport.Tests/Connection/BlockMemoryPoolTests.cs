using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
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

    [Fact]
    public async Task KestrelSocketsTakeTheirPipeMemoryFromThePool()
    {
        await using var listener = await KestrelSocketListener.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), NullLoggerFactory.Instance, CancellationToken.None);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.Endpoint);
        await using var connection = (await listener.AcceptAsync(CancellationToken.None))!;
        await client.SendAsync("ping"u8.ToArray());
        var read = await connection.Pipe.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("ping"u8.ToArray(), read.Buffer.ToArray());
        connection.Pipe.Input.AdvanceTo(read.Buffer.End);
        // Kestrel asked this listener's factory for its pool (the factory hands out BlockMemoryPool.Instance); before,
        // it used MemoryPool<byte>.Shared.
        Assert.True(listener.Pools.Created >= 1, "Kestrel's transport did not take the pool it was given");
    }
}
